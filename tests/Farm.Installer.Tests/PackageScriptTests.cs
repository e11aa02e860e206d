using System.Buffers.Binary;
using Farm.Installer.Tests.TestSupport;

namespace Farm.Installer.Tests;

/// <summary>installer/package.sh's targets that need no container.</summary>
[TestClass]
public sealed class PackageScriptTests
{
    [TestMethod]
    [Timeout(10 * 60 * 1000, CooperativeCancellation = true)]
    public async Task PackageScript_Windows_SelfContainedX64FarmdAndFarmctlWithServiceScript()
    {
        Requirements.DotnetSdk();
        string output = await Builds.PackageAsync("windows", TimeSpan.FromMinutes(10));
        try
        {
            string dir = Directory.GetDirectories(output, "farm-*-win-x64").Single();
            foreach (string program in new[] { "farmd", "farmctl" })
            {
                // Each self-contained in a folder of its own: the runtime comes along, nothing is needed on the host.
                Assert.AreEqual(0x8664, PeMachine(Path.Combine(dir, program, program + ".exe")), $"{program}.exe is a Windows x64 executable");
                Assert.IsTrue(File.Exists(Path.Combine(dir, program, "hostfxr.dll")), $"{program}/hostfxr.dll");
            }

            // farmd's own copy of the framework's logging, not the older one a package of farmctl brings.
            Assert.AreEqual(
                "10.0.0.0",
                System.Reflection.AssemblyName.GetAssemblyName(Path.Combine(dir, "farmd", "Microsoft.Extensions.Logging.Abstractions.dll")).Version?.ToString());
            Assert.IsTrue(File.Exists(Path.Combine(dir, "farmd", "Microsoft.Extensions.Hosting.WindowsServices.dll")), "the Windows service host");
            Assert.IsTrue(File.Exists(Path.Combine(dir, "farmd-service.ps1")), "farmd-service.ps1");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>The COFF machine field of a PE file (0x8664: x64); fails unless the file is a PE image.</summary>
    private static int PeMachine(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.AreEqual("MZ", System.Text.Encoding.ASCII.GetString(bytes, 0, 2), $"{path}: no DOS header");
        int pe = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(0x3C));
        Assert.AreEqual("PE\0\0", System.Text.Encoding.ASCII.GetString(bytes, pe, 4), $"{path}: no PE signature");
        return BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(pe + 4));
    }
}
