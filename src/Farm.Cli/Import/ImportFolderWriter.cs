namespace Farm.Cli.Import;

/// <summary>
/// Writes an imported module folder all at once: the files go to a fresh folder beside the target, which is then
/// renamed into place, so a failure leaves no half-written module (and, with --force, the previous folder intact).
/// </summary>
internal static class ImportFolderWriter
{
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode ExecutableMode = FileMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Why <paramref name="directory"/> cannot receive the module, or null when it can (absent, empty, or <paramref name="force"/>).</summary>
    public static string? Refusal(string directory, bool force)
    {
        if (File.Exists(directory))
        {
            return $"{directory} is a file, not a folder";
        }

        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any() && !force)
        {
            return $"{directory} is not empty; choose an empty or new folder, or pass --force to replace its content";
        }

        return null;
    }

    /// <summary>Writes <paramref name="files"/> as the whole content of <paramref name="directory"/>, replacing what was there.</summary>
    /// <exception cref="IOException">Writing failed; nothing changed at <paramref name="directory"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied; nothing changed at <paramref name="directory"/>.</exception>
    public static void Write(string directory, IReadOnlyList<ImportedFile> files)
    {
        string target = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(target) ?? throw new IOException($"{directory} has no parent folder");
        Directory.CreateDirectory(parent);
        string name = Path.GetFileName(target);
        string staging = Path.Combine(parent, $".{name}.import-{Guid.NewGuid():N}");
        string? previous = null;
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var file in files)
            {
                string path = Path.Combine(staging, file.Path.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = file.Executable ? ExecutableMode : FileMode;
                }

                using (var stream = new FileStream(path, options))
                {
                    stream.Write(file.Content);
                }

                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, file.Executable ? ExecutableMode : FileMode); // whatever the umask
                }
            }

            if (!OperatingSystem.IsWindows())
            {
                // The scripts refuse to run from folders others may write (see SafeKitScripts), so the umask must not decide.
                foreach (string folder in Directory.EnumerateDirectories(staging, "*", SearchOption.AllDirectories).Prepend(staging))
                {
                    File.SetUnixFileMode(folder, ExecutableMode);
                }
            }

            if (Directory.Exists(target))
            {
                previous = Path.Combine(parent, $".{name}.previous-{Guid.NewGuid():N}");
                Directory.Move(target, previous);
            }

            try
            {
                Directory.Move(staging, target);
            }
            catch
            {
                if (previous is not null)
                {
                    Directory.Move(previous, target);
                    previous = null;
                }

                throw;
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            if (previous is not null && Directory.Exists(previous))
            {
                Directory.Delete(previous, recursive: true);
            }
        }
    }
}
