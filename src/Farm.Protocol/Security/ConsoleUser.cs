namespace Farm.Protocol.Security;

/// <summary>A user of the web console.</summary>
/// <param name="Name">The name typed at the login.</param>
/// <param name="Role">What the user may do.</param>
/// <param name="PasswordHash">The salted password hash (see <see cref="ConsoleUserFile"/>).</param>
public sealed record ConsoleUser(string Name, ConsoleRole Role, string PasswordHash);
