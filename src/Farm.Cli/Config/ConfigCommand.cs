using Farm.Native.Linux;

namespace Farm.Cli.Config;

/// <summary><c>farmctl config ...</c>: check cluster files and module farm.yaml files, hash a cluster file, apply a new one live.</summary>
internal static class ConfigCommand
{
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var output = context.Output;
        var checkFiles = new Argument<string[]>("FILE")
        {
            Description = "Cluster files (top-level 'cluster:') and module farm.yaml files (top-level 'module:'), in any mix.",
            Arity = ArgumentArity.OneOrMore,
        };
        // Without this a mistyped option ("--strict") would be taken for a file name and reported as "file not found".
        checkFiles.Validators.Add(result =>
        {
            if (result.Tokens.FirstOrDefault(t => t.Value.Length > 1 && t.Value.StartsWith('-')) is { } token)
            {
                result.AddError($"Unrecognized option '{token.Value}' (for a file whose name starts with '-', write ./{token.Value}).");
            }
        });
        var check = new Command("check", "Validate configuration files and print every error with its location and a fix hint.") { checkFiles };
        check.SetAction(parseResult => ConfigChecker.Check(parseResult.GetValue(checkFiles) ?? [], output, ConfigFileText.Read));

        var hashFile = new Argument<string>("FILE") { Description = "A cluster file." };
        var hash = new Command("hash", "Print the canonical SHA-256 of a cluster file, the value nodes compare before admitting a peer.") { hashFile };
        hash.SetAction(parseResult => ConfigChecker.Hash(parseResult.GetValue(hashFile) ?? "", output, ConfigFileText.Read));

        return new Command("config", "Check configuration files; apply a cluster file with new node weights live.") { check, hash, ConfigApplyCommand.Create(context) };
    }
}
