using System.Text;
using Microsoft.AspNetCore.Identity;

namespace Farm.Protocol.Security;

/// <summary>
/// The web console's users file (<c>cluster.console_users</c>): one user a line, <c>NAME:ROLE:HASH</c>, where ROLE is
/// <c>viewer</c> or <c>operator</c> and HASH is ASP.NET Core Identity's salted password hash (version 3: PBKDF2 with
/// HMAC-SHA512, a random 128-bit salt, 100,000 iterations; checked in fixed time). Lines starting with <c>#</c> and
/// blank lines are ignored. Written by <c>farmctl console user add</c> (mode 0600), read by farmd at each login.
/// </summary>
public static class ConsoleUserFile
{
    /// <summary>The file's mode: only its owner (root) reads it.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Shortest accepted password.</summary>
    public const int MinPasswordLength = 8;

    /// <summary>Longest accepted user name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Largest file read (a few thousand users).</summary>
    public const int MaxFileBytes = 1 << 20;

    private static readonly PasswordHasher<ConsoleUser> Hasher = new();

    // A hash of no one's password, checked when the name is unknown: a wrong name costs as long as a wrong password.
    private static readonly string DummyHash = Hasher.HashPassword(new ConsoleUser("", ConsoleRole.Viewer, ""), Convert.ToBase64String(Guid.NewGuid().ToByteArray()));

    /// <summary>The role's name in the file (<c>viewer</c>, <c>operator</c>).</summary>
    public static string NameOf(ConsoleRole role) => role == ConsoleRole.Operator ? "operator" : "viewer";

    /// <summary>The role of a name in the file, or null.</summary>
    public static ConsoleRole? RoleOf(string name) => name switch
    {
        "viewer" => ConsoleRole.Viewer,
        "operator" => ConsoleRole.Operator,
        _ => null,
    };

    /// <summary>Letters, digits, '.', '_', '-' and '@', 1 to <see cref="MaxNameLength"/> characters.</summary>
    public static bool IsValidName(string name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');

    /// <summary>Why the password is refused, or null when it is long enough.</summary>
    public static string? CheckPassword(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return password.Length < MinPasswordLength ? $"the password has {password.Length} characters: at least {MinPasswordLength} are needed" : null;
    }

    /// <summary>A user with the salted hash of <paramref name="password"/>.</summary>
    public static ConsoleUser Create(string name, ConsoleRole role, string password)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a user name: letters, digits, '.', '_', '-' and '@', at most {MaxNameLength}", nameof(name));
        }

        if (CheckPassword(password) is { } problem)
        {
            throw new ArgumentException(problem, nameof(password));
        }

        var user = new ConsoleUser(name, role, "");
        return user with { PasswordHash = Hasher.HashPassword(user, password) };
    }

    /// <summary>
    /// The user named <paramref name="name"/> when <paramref name="password"/> is theirs; null otherwise (unknown name or
    /// wrong password, which take the same time).
    /// </summary>
    public static ConsoleUser? Verify(IReadOnlyList<ConsoleUser> users, string name, string password)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(password);
        var user = users.FirstOrDefault(u => string.Equals(u.Name, name, StringComparison.Ordinal));
        var result = Hasher.VerifyHashedPassword(user ?? new ConsoleUser("", ConsoleRole.Viewer, ""), user?.PasswordHash ?? DummyHash, password);
        return user is not null && result != PasswordVerificationResult.Failed ? user : null;
    }

    /// <summary>The users of a file's text, and a message for each line that is not a user (line number first).</summary>
    public static (IReadOnlyList<ConsoleUser> Users, IReadOnlyList<string> Errors) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var users = new List<ConsoleUser>();
        var errors = new List<string>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            string[] parts = line.Split(':');
            if (parts.Length != 3 || !IsValidName(parts[0]) || RoleOf(parts[1]) is not { } role || parts[2].Length == 0)
            {
                errors.Add($"line {i + 1}: not NAME:viewer|operator:HASH");
            }
            else if (users.Any(u => u.Name == parts[0]))
            {
                errors.Add($"line {i + 1}: user '{parts[0]}' again (the first line counts)");
            }
            else
            {
                users.Add(new ConsoleUser(parts[0], role, parts[2]));
            }
        }

        return (users, errors);
    }

    /// <summary>The file's text for <paramref name="users"/>, with a header saying what it is.</summary>
    public static string Format(IEnumerable<ConsoleUser> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        var text = new StringBuilder("# Farm web console users (farmctl console user add NAME --role viewer|operator): NAME:ROLE:HASH\n");
        foreach (var user in users)
        {
            text.Append(user.Name).Append(':').Append(NameOf(user.Role)).Append(':').Append(user.PasswordHash).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Reads the file (at most <see cref="MaxFileBytes"/>).</summary>
    /// <exception cref="IOException">The file cannot be read or is too large.</exception>
    public static (IReadOnlyList<ConsoleUser> Users, IReadOnlyList<string> Errors) Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length > MaxFileBytes)
        {
            throw new IOException($"{path} has {stream.Length} bytes, more than {MaxFileBytes}: not a users file");
        }

        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>Writes the file whole (a new file renamed over the old one), mode 0600 from its creation.</summary>
    public static void Write(string path, IEnumerable<ConsoleUser> users)
    {
        string full = Path.GetFullPath(path);
        string temporary = full + ".new";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = Mode;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
        {
            writer.Write(Format(users));
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, Mode); // an older .new file keeps its mode on FileMode.Create
        }

        File.Move(temporary, full, overwrite: true);
    }
}
