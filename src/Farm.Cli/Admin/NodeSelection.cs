using System.CommandLine.Parsing;

namespace Farm.Cli.Admin;

/// <summary>
/// <c>--node N</c> (repeatable) and <c>--all</c> of the commands that farmd relays to other nodes, and their one rule:
/// they exclude each other and need the local farmd (a node asked with <c>--host</c> acts only on itself).
/// </summary>
internal sealed class NodeSelection
{
    /// <summary><c>--node</c>, <c>-n</c>.</summary>
    public Option<string[]> Nodes { get; } = new("--node", "-n")
    {
        Description = "Act on this node instead of the local one (repeatable); farmd relays to it over TCP.",
        HelpName = "NODE",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary><c>--all</c>.</summary>
    public Option<bool> All { get; } = new("--all") { Description = "Act on every node of the cluster." };

    /// <summary>Adds the rule's errors to <paramref name="result"/>.</summary>
    public void Validate(CommandResult result, AdminConnectionOptions connection)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(connection);
        bool hasNodes = result.GetResult(Nodes) is { Implicit: false };
        bool hasAll = result.GetResult(All) is { Implicit: false };
        if (hasNodes && hasAll)
        {
            result.AddError("--node and --all exclude each other.");
        }

        if ((hasNodes || hasAll) && connection.HasHost(result))
        {
            result.AddError("--node and --all relay through the local farmd (--socket); a node asked with --host acts only on itself.");
        }
    }
}
