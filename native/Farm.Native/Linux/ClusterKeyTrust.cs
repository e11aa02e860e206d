using Farm.Core.Config;
using Farm.Core.Security;

namespace Farm.Native.Linux;

/// <summary>The trust rules of a cluster file and its key (farmd refuses to start on a problem; farmctl config check warns).</summary>
internal static class ClusterKeyTrust
{
    /// <summary>
    /// What makes the cluster file or its key unusable: the file holding the key must be private (mode 0600, owned by
    /// root), and with <c>key_file</c> the cluster file must still be root's own (it names the key file and the nodes).
    /// </summary>
    public static List<string> Problems(string clusterFile, ClusterConfig cluster, KeyFileReader keyFiles, IFileInspector files)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(keyFiles);
        ArgumentNullException.ThrowIfNull(files);
        var problems = new List<string>();
        string keyHolder = cluster.KeyFile is { } keyFile ? keyFiles.Resolve(keyFile) : Path.GetFullPath(clusterFile);
        try
        {
            if (files.Inspect(keyHolder) is { } key && FileTrust.SecretFileProblem(key, files.EffectiveUid) is { } keyProblem)
            {
                string hint = cluster.KeyFile is null ? "; better: move the key to a key_file of its own (docs/operations.md, \"Securing a farm\")" : "";
                problems.Add($"the cluster key must be readable by root only, and {keyProblem}{hint}");
            }

            if (cluster.KeyFile is not null && files.Inspect(Path.GetFullPath(clusterFile)) is { } file && FileTrust.TrustedFileProblem(file, files.EffectiveUid) is { } fileProblem)
            {
                problems.Add($"the cluster file must be root's own, and {fileProblem}");
            }
        }
        catch (IOException ex)
        {
            problems.Add(ex.Message);
        }

        return problems;
    }
}
