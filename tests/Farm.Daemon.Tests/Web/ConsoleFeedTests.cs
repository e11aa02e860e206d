using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Web;

[TestClass]
public sealed class ConsoleFeedTests
{
    [TestMethod]
    public void Render_ModuleWithLogLines_DocumentCarriesItsTailOldestFirst()
    {
        var report = new Wire.NodeStatusReport { Cluster = "c", Node = "n1" };
        report.Modules.Add(new Wire.ModuleReport { Module = "web" });
        report.Modules.Add(new Wire.ModuleReport { Module = "db" });
        var at = DateTimeOffset.Parse("2026-12-03T10:00:00Z", CultureInfo.InvariantCulture);
        IReadOnlyList<ModuleLogLine> Tail(string module) => module == "web"
            ? [new ModuleLogLine(1, at, LogLevel.Information, "Module web is UP/Ready: started"), new ModuleLogLine(2, at.AddSeconds(1), LogLevel.Warning, "<b>checker</b> down")]
            : [];

        using var doc = JsonDocument.Parse(ConsoleFeed.Render(report, view: null, ownership: null, Tail));

        var web = doc.RootElement.GetProperty("logs").GetProperty("web");
        Assert.AreEqual(2, web.GetArrayLength());
        Assert.AreEqual("info", web[0].GetProperty("level").GetString());
        Assert.AreEqual("Module web is UP/Ready: started", web[0].GetProperty("text").GetString());
        Assert.AreEqual("<b>checker</b> down", web[1].GetProperty("text").GetString(), "text goes as data; the page shows it with textContent");
        Assert.AreEqual(at.AddSeconds(1), DateTimeOffset.Parse(web[1].GetProperty("time").GetString()!, CultureInfo.InvariantCulture));
        Assert.AreEqual(0, doc.RootElement.GetProperty("logs").GetProperty("db").GetArrayLength());
    }

    [TestMethod]
    public void Render_NoLogSource_EmptyLogsObject()
    {
        var report = new Wire.NodeStatusReport { Cluster = "c", Node = "n1" };
        report.Modules.Add(new Wire.ModuleReport { Module = "web" });

        using var doc = JsonDocument.Parse(ConsoleFeed.Render(report, view: null, ownership: null));

        Assert.AreEqual(0, doc.RootElement.GetProperty("logs").EnumerateObject().Count());
    }
}
