namespace Farm.Cli.Import;

/// <summary>What <see cref="SafeKitImporter"/> turns into a module folder; everything is in memory (the caller reads the files).</summary>
/// <param name="XmlText">The text of userconfig.xml.</param>
/// <param name="XmlFile">Its name as the user gave it, for messages.</param>
/// <param name="ModuleName">The Farm module's name (already a valid name).</param>
/// <param name="Interface">The interface for the VIPs from <c>--interface</c>, or null to take <c>&lt;interface name&gt;</c>.</param>
/// <param name="Scripts">The SafeKit module's <c>bin/</c> files by name (no folders), or empty.</param>
/// <param name="ScriptsFolder">Where the scripts came from, for messages; null when there are none.</param>
internal sealed record SafeKitImportRequest(
    string XmlText,
    string XmlFile,
    string ModuleName,
    string? Interface,
    IReadOnlyList<SafeKitScript> Scripts,
    string? ScriptsFolder);

/// <summary>One file of the SafeKit module's <c>bin/</c> folder.</summary>
/// <param name="Name">File name.</param>
/// <param name="Content">Its bytes, copied unchanged.</param>
/// <param name="Executable">Whether it had an execute bit.</param>
internal sealed record SafeKitScript(string Name, byte[] Content, bool Executable);
