namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class CheckerConfigParserTests
{
    // The checker's own lines start at line 8 ("    - name: c"); its settings follow at column 7.
    private const string Module = ConfigSamples.MinimalModule + "\n  checkers:";

    private static ConfigResult<ModuleConfig> Parse(params string[] checkerLines) =>
        ConfigAssert.Module(Module + "\n    - name: c\n" + string.Concat(checkerLines.Select(l => "      " + l + "\n")));

    private static T Valid<T>(params string[] checkerLines)
        where T : CheckerConfig
    {
        var result = Parse(checkerLines);
        Assert.IsTrue(result.Succeeded, string.Join('\n', result.Errors));
        return (T)result.Value!.Checkers.Single();
    }

    /// <summary>The settings every checker type has.</summary>
    private static (TimeSpan Interval, TimeSpan Timeout, CheckerWhen When, CheckerAction Action) CommonSettings(CheckerConfig checker) =>
        (checker.Interval, checker.Timeout, checker.When, checker.Action);

    [TestMethod]
    public void ParseChecker_Tcp_ReadsFieldsAndCommonDefaults()
    {
        var checker = Valid<TcpCheckerConfig>("type: tcp", "address: 127.0.0.1", "port: 8080");
        Assert.AreEqual("c", checker.Name);
        Assert.AreEqual(CheckerType.Tcp, checker.Type);
        Assert.AreEqual("127.0.0.1", checker.Address);
        Assert.AreEqual(8080, checker.Port);
        Assert.AreEqual((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2), CheckerWhen.Always, CheckerAction.Restart), CommonSettings(checker));
    }

    [TestMethod]
    public void ParseChecker_CommonSettings_AreRead()
    {
        var checker = Valid<PingCheckerConfig>("type: ping", "address: gateway.example", "interval: 1m", "timeout: 500ms", "when: before_start", "action: stopstart");
        Assert.AreEqual("gateway.example", checker.Address);
        Assert.AreEqual((TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(500), CheckerWhen.BeforeStart, CheckerAction.StopStart), CommonSettings(checker));
    }

    [TestMethod]
    public void ParseChecker_Http_AppliesExpectStatusDefault()
    {
        var checker = Valid<HttpCheckerConfig>("type: http", "url: https://127.0.0.1:8443/health");
        Assert.AreEqual(new Uri("https://127.0.0.1:8443/health"), checker.Url);
        Assert.AreEqual(200, checker.ExpectStatus);
        Assert.IsNull(checker.ExpectBody);
    }

    [TestMethod]
    public void ParseChecker_HttpWithBody_ReadsIt() =>
        Assert.AreEqual("ok", Valid<HttpCheckerConfig>("type: http", "url: http://localhost/", "expect_status: 204", "expect_body: ok").ExpectBody);

    [TestMethod]
    public void ParseChecker_Process_AppliesMinDefault()
    {
        var checker = Valid<ProcessCheckerConfig>("type: process", "process: nginx");
        Assert.AreEqual("nginx", checker.ProcessName);
        Assert.IsNull(checker.Regex);
        Assert.AreEqual(1, checker.Min);
        Assert.IsNull(checker.Max);
    }

    [TestMethod]
    public void ParseChecker_ProcessRegexWithBounds_ReadsThem()
    {
        var checker = Valid<ProcessCheckerConfig>("type: process", "regex: '^java .*app\\.jar'", "min: 2", "max: 4");
        Assert.AreEqual("^java .*app\\.jar", checker.Regex);
        Assert.AreEqual((2, 4), (checker.Min, checker.Max!.Value));
    }

    [TestMethod]
    public void ParseChecker_CustomAndInterface_ReadTheirField()
    {
        Assert.AreEqual("bin/check_db", Valid<CustomCheckerConfig>("type: custom", "script: bin/check_db").Script);
        Assert.AreEqual("eth1", Valid<InterfaceCheckerConfig>("type: interface", "interface: eth1").Interface);
    }

    [TestMethod]
    public void ParseChecker_FieldOfAnotherType_NamesTheOwningType()
    {
        var error = ConfigAssert.SingleError(Parse("type: tcp", "address: 127.0.0.1", "port: 80", "url: http://x/"), 12, 7, "'url' is not a field of tcp checkers (checker 'c')");
        Assert.AreEqual("'url' belongs to http checkers; remove it or change 'type'", error.Hint);
    }

    [TestMethod]
    public void ParseChecker_SharedFieldOnWrongType_NamesEveryOwner()
    {
        var error = ConfigAssert.SingleError(Parse("type: interface", "interface: eth0", "address: 127.0.0.1"), 11, 7, "'address' is not a field of interface checkers");
        StringAssert.Contains(error.Hint, "tcp and ping");
    }

    // The checker's setting lines, separated by \n.
    [TestMethod]
    [DataRow("type: tcp\naddress: 127.0.0.1", 8, 7, "missing required key 'port' in checker 'c'")]
    [DataRow("address: 127.0.0.1", 8, 7, "missing required key 'type'")]
    [DataRow("type: interface\ninterface: eth0\ninterval: 5s\ntimeout: 5s", 12, 16, "is not less than its interval 5s")]
    [DataRow("type: interface\ninterface: eth0\ninterval: 5s\ntimeout: 6s", 12, 16, "is not less than its interval 5s")]
    [DataRow("type: interface\ninterface: eth0\ninterval: 1s", 11, 17, "timeout 2s of checker 'c' is not less than its interval 1s")]
    [DataRow("type: custom\nscript: ../outside", 10, 15, "must be a relative path inside the module folder")]
    [DataRow("type: custom\nscript: bin/../../etc/x", 10, 15, "must be a relative path inside the module folder")]
    [DataRow("type: custom\nscript: /usr/bin/check", 10, 15, "must be a relative path inside the module folder")]
    [DataRow("type: custom\nscript: 'C:\\check.cmd'", 10, 15, "must be a relative path inside the module folder")]
    [DataRow("type: custom\nscript: 'bin\\check'", 10, 15, "must be a relative path inside the module folder")]
    [DataRow("type: process\nregex: '(unclosed'", 10, 14, "regex of checker 'c' is invalid")]
    [DataRow("type: process\nprocess: a\nmin: 3\nmax: 2", 12, 12, "max 2 of checker 'c' is less than min 3")]
    [DataRow("type: http\nurl: ftp://host/", 10, 12, "is not an absolute http:// or https:// URL")]
    [DataRow("type: http\nurl: /health", 10, 12, "is not an absolute http:// or https:// URL")]
    [DataRow("type: http\nurl: not a url", 10, 12, "is not an absolute http:// or https:// URL")]
    [DataRow("type: http\nurl: http://x/\nexpect_status: 700", 11, 22, "out of range")]
    [DataRow("type: ping\naddress: 'no spaces allowed'", 10, 16, "neither an IP address nor a host name")]
    public void ParseChecker_BadSetting_ReportsAtItsPosition(string lines, int line, int column, string message) =>
        ConfigAssert.SingleError(Parse(lines.Split('\n')), line, column, message);

    [TestMethod]
    public void ParseChecker_UnknownType_SuggestsNearest()
    {
        var error = ConfigAssert.SingleError(Parse("type: htp", "url: http://x/"), 9, 13, "'htp', which is not one of tcp, http, process, custom, interface, ping");
        Assert.AreEqual("did you mean 'http'?", error.Hint);
    }

    [TestMethod]
    public void ParseChecker_DuplicateName_Reports()
    {
        var result = ConfigAssert.Module(Module + """

                - { name: c, type: interface, interface: eth0 }
                - { name: c, type: interface, interface: eth1 }
            """);
        ConfigAssert.SingleError(result, 9, 15, "duplicate checker name 'c' (first at line 8)");
    }

    [TestMethod]
    [DataRow("type: process")]
    [DataRow("type: process\n      process: a\n      regex: b")]
    public void ParseChecker_ProcessWithoutExactlyOneMatcher_Reports(string lines) =>
        ConfigAssert.SingleError(Parse(lines), "needs exactly one of 'process' and 'regex'");

    [TestMethod]
    public void ParseChecker_NotAMapping_Reports() =>
        ConfigAssert.SingleError(ConfigAssert.Module(Module + "\n    - tcp"), 8, 7, "checker #1 must be a mapping");
}
