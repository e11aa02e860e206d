using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Farm.Native.Linux;

/// <summary>Checked wrappers over Linux namespace system calls.</summary>
[SupportedOSPlatform("linux")]
internal static class LinuxNamespaces
{
    /// <summary>The calling thread's current network namespace, as a handle that can be passed back to <see cref="EnterNetwork"/>.</summary>
    /// <remarks>thread-self, not self: after a setns() the thread and the process's main thread can differ.</remarks>
    internal static SafeFileHandle OpenCurrentThreadNetwork() =>
        File.OpenHandle("/proc/thread-self/ns/net", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

    /// <summary>Opens a named network namespace file (e.g. <c>/run/netns/NAME</c> as created by <c>ip netns add</c>).</summary>
    internal static SafeFileHandle OpenNetwork(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

    /// <summary>
    /// Moves the calling thread into a network namespace. Sockets created afterwards on this thread live in
    /// that namespace for their whole life, whatever thread uses them later.
    /// </summary>
    /// <exception cref="IOException">setns() failed; the message carries errno.</exception>
    internal static void EnterNetwork(SafeFileHandle namespaceFile)
    {
        ArgumentNullException.ThrowIfNull(namespaceFile);
        if (LibC.SetNs(namespaceFile, LibC.CloneNewNet) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"setns(CLONE_NEWNET) failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");
        }
    }
}
