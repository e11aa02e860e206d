using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Answers <c>ApplyConfig</c>: over the local socket, applies the file on every node of the cluster (this one directly,
/// the others through the relay, the text encrypted with the cluster key) and gathers one result per node in
/// cluster-file order; over TCP, applies it on this node only.
/// </summary>
internal sealed class ConfigApplyControl(NodeRoster roster, ClusterReloader reloader, AdminRelay relay, ConfigTextCipher cipher)
{
    /// <summary>Largest file accepted (a cluster file of 64 nodes is a few kilobytes).</summary>
    public const int MaxTextLength = 1 << 20;

    /// <summary>How long a relayed apply may take.</summary>
    public static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The file name errors are located in when the query names none.</summary>
    public const string DefaultFileName = "cluster.yaml";

    /// <summary>Runs the query; <paramref name="local"/> is true over the Unix socket (then every node is asked).</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT: a plain text over TCP, a text that does not decrypt, a text too long.</exception>
    public async Task<Wire.ConfigApplyAnswer> HandleAsync(Wire.ConfigApplyQuery query, bool local, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        string text;
        if (local)
        {
            text = query.Text;
        }
        else if (query.Text.Length > 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "over TCP the file must travel encrypted (encrypted_text): it holds the cluster key"));
        }
        else
        {
            text = cipher.Decrypt(query.EncryptedText.Span)
                ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "encrypted_text does not decrypt with this cluster's key (altered, or another cluster's)"));
        }

        if (text.Length > MaxTextLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"the file has {text.Length} characters, more than {MaxTextLength}: this is not a cluster file"));
        }

        string fileName = query.FileName.Length > 0 ? query.FileName : DefaultFileName;
        string by = query.RequestedBy.Length > 0 ? query.RequestedBy : "an admin";
        string self = roster.Self;
        var answer = new Wire.ConfigApplyAnswer();
        if (!local)
        {
            answer.Results.Add(ToResult(self, reloader.Apply(text, fileName, by)));
            return answer;
        }

        var forward = new Wire.ConfigApplyQuery { EncryptedText = Google.Protobuf.ByteString.CopyFrom(cipher.Encrypt(text)), FileName = fileName, RequestedBy = by };
        var results = await Task.WhenAll(roster.Names.Select(n => n == self
            ? Task.FromResult(ToResult(self, reloader.Apply(text, fileName, by)))
            : RelayAsync(n, forward, cancellationToken)));
        answer.Results.Add(results);
        return answer;
    }

    private async Task<Wire.ConfigApplyResult> RelayAsync(string node, Wire.ConfigApplyQuery forward, CancellationToken cancellationToken)
    {
        var (answer, error) = await relay.CallAsync(
            node, MethodPaths.ApplyConfig, forward, async (c, e, o) => (await c.ApplyConfigAsync(new Wire.ConfigApplyRequest { Sealed = e }, o)).Sealed, Wire.ConfigApplyAnswer.Parser, RelayTimeout, cancellationToken);
        var failed = new Wire.ConfigApplyResult { Node = node, Outcome = Wire.ConfigApplyOutcome.Failed };
        if (error is not null)
        {
            failed.Errors.Add(error);
            return failed;
        }

        if (answer!.Results.FirstOrDefault(r => r.Node == node) is { } result)
        {
            return result;
        }

        failed.Errors.Add($"{node} answered without its own result");
        return failed;
    }

    private static Wire.ConfigApplyResult ToResult(string node, ReloadResult result)
    {
        var pb = new Wire.ConfigApplyResult
        {
            Node = node,
            Outcome = result.Outcome switch
            {
                ReloadOutcome.Applied => Wire.ConfigApplyOutcome.Applied,
                ReloadOutcome.Unchanged => Wire.ConfigApplyOutcome.Unchanged,
                ReloadOutcome.Refused => Wire.ConfigApplyOutcome.Refused,
                _ => Wire.ConfigApplyOutcome.Failed,
            },
            Version = result.Version,
            PreviousWeight = result.PreviousWeight,
            Weight = result.Weight,
            Path = result.Path,
        };
        pb.Errors.Add(result.Errors);
        return pb;
    }
}
