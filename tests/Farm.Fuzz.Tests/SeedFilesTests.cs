using Farm.Fuzz.Tests.DataPlane;
using Farm.Fuzz.Tests.Protocol;

namespace Farm.Fuzz.Tests;

/// <summary>
/// The binary seeds kept under Inputs/ are the ones the seed builders make today (a protocol or layout change shows
/// here first). With <c>FARM_FUZZ_WRITE_SEEDS=1</c> the test writes them into the source folder before comparing.
/// </summary>
[TestClass]
public sealed class SeedFilesTests
{
    [TestMethod]
    [DataRow("membership")]
    [DataRow("envelope")]
    [DataRow("ctnetlink")]
    [DataRow("neighbors")]
    public void KeptSeeds_Target_MatchTheBuilders(string target)
    {
        var built = target switch
        {
            "membership" => ProtocolSeeds.Payloads(),
            "envelope" => ProtocolSeeds.Envelopes(),
            "ctnetlink" => DataPlaneSeeds.Ctnetlink(),
            _ => DataPlaneSeeds.Neighbors(),
        };
        if (Environment.GetEnvironmentVariable("FARM_FUZZ_WRITE_SEEDS") == "1")
        {
            string dir = Path.Combine(SourceFolder(), "Inputs", target);
            Directory.CreateDirectory(dir);
            Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "Inputs", target));
            foreach (var (name, data) in built)
            {
                File.WriteAllBytes(Path.Combine(dir, name), data);
                File.WriteAllBytes(Path.Combine(AppContext.BaseDirectory, "Inputs", target, name), data);
            }
        }

        var kept = FuzzRunner.KeptInputs(target).ToDictionary(k => k.File, k => k.Data);
        foreach (var (name, data) in built)
        {
            Assert.IsTrue(kept.TryGetValue(name, out var file), $"Inputs/{target}/{name} is missing: run this test with FARM_FUZZ_WRITE_SEEDS=1");
            CollectionAssert.AreEqual(data, file, $"Inputs/{target}/{name} differs from its builder: run this test with FARM_FUZZ_WRITE_SEEDS=1");
        }
    }

    private static string SourceFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Farm.Fuzz.Tests.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("tests/Farm.Fuzz.Tests not found above " + AppContext.BaseDirectory);
    }
}
