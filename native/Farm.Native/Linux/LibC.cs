using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Farm.Native.Linux;

/// <summary>Raw libc entry points; callers go through the checked wrappers such as <see cref="LinuxNamespaces"/>.</summary>
internal static partial class LibC
{
    private const string Library = "libc";

    /// <summary>setns(2) namespace type for network namespaces.</summary>
    internal const int CloneNewNet = 0x40000000;

    /// <summary>setns(2): moves the calling thread (not the process) into the namespace behind <paramref name="fd"/>.</summary>
    [LibraryImport(Library, EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(SafeFileHandle fd, int nsType);

    /// <summary>if_nametoindex(3): the interface index in the calling thread's network namespace, 0 when there is no such interface.</summary>
    [LibraryImport(Library, EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint IfNameToIndex(string name);
}
