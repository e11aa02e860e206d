namespace Farm.Cli.Import;

/// <summary><c>farmctl import safekit FILE -o DIR</c>: a Farm module folder from a SafeKit farm module.</summary>
internal static class ImportCommand
{
    private const long MaxScriptBytes = 16 * 1024 * 1024;

    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var file = new Argument<string>("FILE") { Description = "The SafeKit module's conf/userconfig.xml." };
        var scripts = new Option<string?>("--scripts")
        {
            Description = "The SafeKit module's bin folder (start_both, stop_both, ...). Default: bin/ beside the file's conf/ folder, when there is one.",
            HelpName = "DIR",
        };
        var output = new Option<string>("--output", "-o") { Description = "The module folder to create (new or empty).", HelpName = "DIR", Required = true };
        var name = new Option<string?>("--name") { Description = "The module's name. Default: the output folder's name, made a valid name.", HelpName = "NAME" };
        var iface = new Option<string?>("--interface") { Description = "The interface that carries the VIPs, when the file does not name it (<interface name=...>).", HelpName = "IF" };
        var force = new Option<bool>("--force") { Description = "Replace the content of a non-empty output folder." };
        name.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } n && !ConfigNames.IsValid(n))
            {
                r.AddError($"--name '{n}' is not a valid module name (1 to 63 lower-case letters, digits and '-'), e.g. '{ConfigNames.Suggest(n)}'.");
            }
        });
        var safekit = new Command(
            "safekit",
            "Make a Farm module folder from a SafeKit farm module: farm.yaml from userconfig.xml, its scripts behind a shim that passes SafeKit's arguments, and a warning for each setting without an equivalent.")
        {
            file, scripts, output, name, iface, force,
        };
        safekit.SetAction(parseResult => Run(
            context,
            parseResult.GetValue(file)!,
            parseResult.GetValue(scripts),
            parseResult.GetValue(output)!,
            parseResult.GetValue(name),
            parseResult.GetValue(iface),
            parseResult.GetValue(force)));
        return new Command("import", "Make Farm modules from other clustering products' configurations.") { safekit };
    }

    private static int Run(CliContext context, string file, string? scriptsFolder, string output, string? name, string? iface, bool force)
    {
        var error = context.Error;
        if (ImportFolderWriter.Refusal(output, force) is { } refusal)
        {
            error.WriteLine($"farmctl: {refusal}");
            return CliApp.ExitFailed;
        }

        if (ReadText(file) is not { } text)
        {
            error.WriteLine($"{file}:1:1: error: {ReadProblem(file)} (hint: pass the SafeKit module's conf/userconfig.xml)");
            return CliApp.ExitFailed;
        }

        scriptsFolder ??= DefaultScripts(file);
        List<SafeKitScript> scripts;
        try
        {
            scripts = scriptsFolder is null ? [] : ReadScripts(scriptsFolder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"farmctl: cannot read the scripts in {scriptsFolder}: {ex.Message}");
            return CliApp.ExitFailed;
        }

        string module = name ?? ConfigNames.Suggest(Path.GetFileName(Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar)));
        var result = SafeKitImporter.Import(new SafeKitImportRequest(text, file, module, iface, scripts, scriptsFolder));
        foreach (var message in result.Messages)
        {
            error.WriteLine(message.ToString());
        }

        if (!result.Succeeded)
        {
            int count = result.Errors.Count();
            error.WriteLine($"{count} error{(count == 1 ? "" : "s")}: nothing was written");
            return CliApp.ExitFailed;
        }

        try
        {
            ImportFolderWriter.Write(output, result.Files);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"farmctl: cannot write {output}: {ex.Message}; nothing was written");
            return CliApp.ExitFailed;
        }

        int warnings = result.Warnings.Count();
        var o = context.Output;
        o.WriteLine($"Wrote module '{module}' to {output}: {string.Join(", ", result.Files.Select(f => f.Path))}.");
        o.WriteLine(warnings == 0
            ? "Every setting has an equivalent."
            : $"{warnings} warning{(warnings == 1 ? "" : "s")} (above, and at the top of farm.yaml): settings without an equivalent, and what to do instead.");
        o.WriteLine($"Next: farmctl config check {Path.Combine(output, "farm.yaml")}; then copy the folder to /etc/farm/modules/{module}/ on every node (root's own, not writable by others).");
        return CliApp.ExitOk;
    }

    // The layout of a SafeKit module: AM/conf/userconfig.xml next to AM/bin/.
    private static string? DefaultScripts(string file)
    {
        string? conf = Path.GetDirectoryName(Path.GetFullPath(file));
        if (conf is null || Path.GetFileName(conf) != "conf")
        {
            return null;
        }

        string bin = Path.Combine(Path.GetDirectoryName(conf)!, "bin");
        return Directory.Exists(bin) ? bin : null;
    }

    private static List<SafeKitScript> ReadScripts(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new IOException("no such folder");
        }

        var scripts = new List<SafeKitScript>();
        foreach (string path in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            if (info.Length > MaxScriptBytes)
            {
                throw new IOException($"{path} holds {info.Length} bytes, more than {MaxScriptBytes}");
            }

            bool executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;
            scripts.Add(new SafeKitScript(Path.GetFileName(path), File.ReadAllBytes(path), executable));
        }

        return scripts;
    }

    private static string? ReadText(string file)
    {
        try
        {
            return new FileInfo(file).Length > ConfigLimits.MaxFileLength ? null : File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string ReadProblem(string file) =>
        Directory.Exists(file) ? "is a folder, not a file"
        : !File.Exists(file) ? "file not found"
        : new FileInfo(file).Length > ConfigLimits.MaxFileLength ? $"the file is larger than {ConfigLimits.MaxFileLength} bytes"
        : "cannot read the file (permission denied?)";
}
