namespace Farm.Testing.Files;

/// <summary>Files of the repository the tests run from (docs, examples), found from the test assembly's folder.</summary>
public static class RepositoryFiles
{
    /// <summary>The repository root: the nearest folder above the test assembly that holds <c>Farm.sln</c>.</summary>
    public static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(d.FullName, "Farm.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("Farm.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The path of a file under the root, e.g. <c>Path("docs", "metrics.md")</c>.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root(), .. parts]);
}
