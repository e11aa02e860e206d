using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>Raw libpcap entry points (libpcap.so.0.8, Debian package libpcap0.8); use <see cref="PcapDevice"/>.</summary>
internal static unsafe partial class PcapNative
{
    private const string Library = "libpcap.so.0.8";

    /// <summary>PCAP_ERRBUF_SIZE.</summary>
    internal const int ErrorBufferSize = 256;

    /// <summary>PCAP_NETMASK_UNKNOWN, for pcap_compile.</summary>
    internal const uint NetmaskUnknown = 0xffffffff;

    /// <summary>PCAP_D_IN: only frames the interface received, not the ones this host sent.</summary>
    internal const int DirectionIn = 1;

    /// <summary>DLT_EN10MB: Ethernet framing.</summary>
    internal const int DataLinkEthernet = 1;

    [LibraryImport(Library, EntryPoint = "pcap_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial PcapHandle Create(string source, byte* errorBuffer);

    [LibraryImport(Library, EntryPoint = "pcap_close")]
    internal static partial void Close(nint pcap);

    [LibraryImport(Library, EntryPoint = "pcap_set_snaplen")]
    internal static partial int SetSnapLength(PcapHandle pcap, int snapLength);

    [LibraryImport(Library, EntryPoint = "pcap_set_promisc")]
    internal static partial int SetPromiscuous(PcapHandle pcap, int promiscuous);

    [LibraryImport(Library, EntryPoint = "pcap_set_timeout")]
    internal static partial int SetTimeout(PcapHandle pcap, int milliseconds);

    [LibraryImport(Library, EntryPoint = "pcap_set_immediate_mode")]
    internal static partial int SetImmediateMode(PcapHandle pcap, int immediate);

    [LibraryImport(Library, EntryPoint = "pcap_activate")]
    internal static partial int Activate(PcapHandle pcap);

    [LibraryImport(Library, EntryPoint = "pcap_datalink")]
    internal static partial int DataLink(PcapHandle pcap);

    [LibraryImport(Library, EntryPoint = "pcap_setdirection")]
    internal static partial int SetDirection(PcapHandle pcap, int direction);

    [LibraryImport(Library, EntryPoint = "pcap_compile", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Compile(PcapHandle pcap, BpfProgram* program, string filter, int optimize, uint netmask);

    [LibraryImport(Library, EntryPoint = "pcap_setfilter")]
    internal static partial int SetFilter(PcapHandle pcap, BpfProgram* program);

    [LibraryImport(Library, EntryPoint = "pcap_freecode")]
    internal static partial void FreeCode(BpfProgram* program);

    /// <summary>1: a frame; 0: timeout; -1: error; -2: pcap_breakloop was called.</summary>
    [LibraryImport(Library, EntryPoint = "pcap_next_ex")]
    internal static partial int NextEx(PcapHandle pcap, PacketHeader** header, byte** data);

    [LibraryImport(Library, EntryPoint = "pcap_sendpacket")]
    internal static partial int SendPacket(PcapHandle pcap, byte* frame, int size);

    /// <summary>Safe from any thread: wakes a blocked pcap_next_ex, which then returns -2.</summary>
    [LibraryImport(Library, EntryPoint = "pcap_breakloop")]
    internal static partial void BreakLoop(PcapHandle pcap);

    [LibraryImport(Library, EntryPoint = "pcap_geterr")]
    internal static partial nint GetError(PcapHandle pcap);

    /// <summary>struct bpf_program.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfProgram
    {
        public uint Length;
        public nint Instructions;
    }

    /// <summary>struct pcap_pkthdr on LP64: struct timeval (2 x long), caplen, len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PacketHeader
    {
        public long Seconds;
        public long Microseconds;
        public uint CaptureLength;
        public uint Length;
    }
}
