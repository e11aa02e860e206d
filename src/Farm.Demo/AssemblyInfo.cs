// The demo runs only on Linux: network namespaces, nftables.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
