using Farm.Protocol.Security;

namespace Farm.Cli.Tests.ConsoleUsers;

[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConsoleUserCommandTests() : TempDirectoryTest("farmctl-console-users-")
{
    public TestContext TestContext { get; set; } = null!;

    private string UsersFile => Path.Combine(Dir, "console-users");

    [TestMethod]
    public async Task Add_PasswordOnInput_FileMode0600WithASaltedHashThatVerifies()
    {
        var first = await RunAsync("alice-password-1\n", "console", "user", "add", "alice", "--role", "operator", "--file", UsersFile);
        var second = await RunAsync("bob-password-1\n", "console", "user", "add", "bob", "--role", "viewer", "--file", UsersFile);
        var again = await RunAsync("bob-password-1\n", "console", "user", "add", "carol", "--role", "viewer", "--file", UsersFile);

        Assert.AreEqual(CliApp.ExitOk, first.ExitCode, first.Error);
        Assert.AreEqual(CliApp.ExitOk, second.ExitCode, second.Error);
        Assert.AreEqual(CliApp.ExitOk, again.ExitCode, again.Error);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(UsersFile));
        string text = await File.ReadAllTextAsync(UsersFile, TestContext.CancellationToken);
        Assert.DoesNotContain("password", text, "no password in the clear");
        var (users, errors) = ConsoleUserFile.Read(UsersFile);
        Assert.IsEmpty(errors);
        CollectionAssert.AreEqual(new[] { "alice", "bob", "carol" }, users.Select(u => u.Name).ToArray());
        Assert.AreEqual(ConsoleRole.Operator, ConsoleUserFile.Verify(users, "alice", "alice-password-1")?.Role);
        Assert.IsNull(ConsoleUserFile.Verify(users, "alice", "bob-password-1"));
        Assert.IsNull(ConsoleUserFile.Verify(users, "nobody", "alice-password-1"));
        Assert.AreNotEqual(users[1].PasswordHash, users[2].PasswordHash, "salted: one password, two hashes");
    }

    [TestMethod]
    public async Task Add_ExistingUser_NewRoleAndPasswordReplaceTheOld()
    {
        await RunAsync("first-password\n", "console", "user", "add", "alice", "--role", "viewer", "--file", UsersFile);

        var updated = await RunAsync("second-password\n", "console", "user", "add", "alice", "--role", "operator", "--file", UsersFile);

        StringAssert.StartsWith(updated.Output, "updated alice (operator)");
        var users = ConsoleUserFile.Read(UsersFile).Users;
        Assert.HasCount(1, users);
        Assert.IsNull(ConsoleUserFile.Verify(users, "alice", "first-password"));
        Assert.AreEqual(ConsoleRole.Operator, ConsoleUserFile.Verify(users, "alice", "second-password")?.Role);
    }

    [TestMethod]
    public async Task Add_ShortPasswordBadNameOrRole_RefusedAndNothingWritten()
    {
        var shortPassword = await RunAsync("short\n", "console", "user", "add", "alice", "--role", "operator", "--file", UsersFile);
        var badName = await RunAsync("long-enough-1\n", "console", "user", "add", "al:ice", "--role", "operator", "--file", UsersFile);
        var badRole = await RunAsync("long-enough-1\n", "console", "user", "add", "alice", "--role", "admin", "--file", UsersFile);

        Assert.AreEqual(CliApp.ExitFailed, shortPassword.ExitCode);
        StringAssert.Contains(shortPassword.Error, "at least 8");
        Assert.AreEqual(CliApp.ExitUsage, badName.ExitCode);
        Assert.AreEqual(CliApp.ExitUsage, badRole.ExitCode);
        Assert.IsFalse(File.Exists(UsersFile));
    }

    [TestMethod]
    public async Task RemoveAndList_TwoUsers_OneLeft()
    {
        await RunAsync("alice-password-1\n", "console", "user", "add", "alice", "--role", "operator", "--file", UsersFile);
        await RunAsync("bob-password-1\n", "console", "user", "add", "bob", "--role", "viewer", "--file", UsersFile);

        var removed = await RunAsync("", "console", "user", "remove", "bob", "--file", UsersFile);
        var missing = await RunAsync("", "console", "user", "remove", "bob", "--file", UsersFile);
        var list = await RunAsync("", "console", "user", "list", "--file", UsersFile);

        Assert.AreEqual(CliApp.ExitOk, removed.ExitCode);
        Assert.AreEqual(CliApp.ExitFailed, missing.ExitCode);
        Assert.AreEqual("alice operator\n", list.Output);
    }

    private async Task<CliRun> RunAsync(string input, params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var context = new CliContext(output, error, CliTerminal.Redirected, TimeProvider.System) { Input = new StringReader(input) };
        int code = await CliApp.RunAsync(args, context, TestContext.CancellationToken);
        return new CliRun(code, output.ToString(), error.ToString());
    }
}
