using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Farm.Native.Linux;

/// <summary>
/// A live libpcap capture on one Ethernet interface: receives the frames a BPF filter lets through and sends raw
/// frames. One thread receives; <see cref="Send"/> may be called from others (pcap_sendpacket is a plain send()).
/// </summary>
/// <remarks>The packet socket lives in the network namespace of the thread that called <see cref="Open"/>.</remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class PcapDevice : IDisposable
{
    private readonly PcapHandle handle;
    private readonly Lock sendLock = new();

    private PcapDevice(PcapHandle handle, string interfaceName)
    {
        this.handle = handle;
        InterfaceName = interfaceName;
    }

    /// <summary>The captured interface.</summary>
    public string InterfaceName { get; }

    /// <summary>
    /// Opens <paramref name="interfaceName"/> in immediate mode (each frame is delivered at once, not batched), not
    /// promiscuous, inbound only, with the BPF <paramref name="filter"/>.
    /// </summary>
    /// <exception cref="PcapException">The interface cannot be captured, is not Ethernet, or the filter is invalid.</exception>
    /// <exception cref="DllNotFoundException">libpcap.so.0.8 is not installed (Debian package libpcap0.8).</exception>
    public static PcapDevice Open(string interfaceName, string filter, int snapLength = 2048, int timeoutMilliseconds = 200)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        ArgumentNullException.ThrowIfNull(filter);
        byte* errors = stackalloc byte[PcapNative.ErrorBufferSize];
        errors[0] = 0;
        var handle = PcapNative.Create(interfaceName, errors);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new PcapException($"pcap_create({interfaceName}): {Marshal.PtrToStringUTF8((nint)errors)}");
        }

        try
        {
            PcapNative.SetSnapLength(handle, snapLength);
            PcapNative.SetPromiscuous(handle, 0);
            PcapNative.SetTimeout(handle, timeoutMilliseconds);
            PcapNative.SetImmediateMode(handle, 1);
            int activated = PcapNative.Activate(handle);
            if (activated < 0)
            {
                throw new PcapException($"pcap_activate({interfaceName}) failed ({activated}): {LastError(handle)}");
            }

            if (PcapNative.DataLink(handle) != PcapNative.DataLinkEthernet)
            {
                throw new PcapException($"{interfaceName} is not an Ethernet interface.");
            }

            // Inbound only: our own replies must not come back to the responder as if a neighbor had sent them.
            if (PcapNative.SetDirection(handle, PcapNative.DirectionIn) != 0)
            {
                throw new PcapException($"pcap_setdirection({interfaceName}): {LastError(handle)}");
            }

            PcapNative.BpfProgram program;
            if (PcapNative.Compile(handle, &program, filter, 1, PcapNative.NetmaskUnknown) != 0)
            {
                throw new PcapException($"pcap_compile('{filter}'): {LastError(handle)}");
            }

            try
            {
                if (PcapNative.SetFilter(handle, &program) != 0)
                {
                    throw new PcapException($"pcap_setfilter('{filter}'): {LastError(handle)}");
                }
            }
            finally
            {
                PcapNative.FreeCode(&program);
            }

            return new PcapDevice(handle, interfaceName);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for the next frame and copies it into <paramref name="destination"/> (truncated to its length).
    /// Returns the copied length, 0 when the read timed out, or -1 after <see cref="Wake"/>.
    /// </summary>
    /// <exception cref="PcapException">The capture failed (e.g. the interface went away).</exception>
    public int Receive(Span<byte> destination)
    {
        PcapNative.PacketHeader* header;
        byte* data;
        int rc = PcapNative.NextEx(handle, &header, &data);
        switch (rc)
        {
            case 1:
                int length = (int)Math.Min(header->CaptureLength, (uint)destination.Length);
                new ReadOnlySpan<byte>(data, length).CopyTo(destination);
                return length;
            case 0:
                return 0;
            case -2:
                return -1;
            default:
                throw new PcapException($"pcap_next_ex({InterfaceName}) failed ({rc}): {LastError(handle)}");
        }
    }

    /// <summary>Sends one complete Ethernet frame (without FCS).</summary>
    /// <exception cref="PcapException">The frame could not be sent.</exception>
    public void Send(ReadOnlySpan<byte> frame)
    {
        lock (sendLock)
        {
            fixed (byte* p = frame)
            {
                if (PcapNative.SendPacket(handle, p, frame.Length) != 0)
                {
                    throw new PcapException($"pcap_sendpacket({InterfaceName}): {LastError(handle)}");
                }
            }
        }
    }

    /// <summary>Makes a blocked or the next <see cref="Receive"/> return -1; safe from any thread.</summary>
    public void Wake() => PcapNative.BreakLoop(handle);

    /// <inheritdoc />
    public void Dispose() => handle.Dispose();

    private static string LastError(PcapHandle handle) => Marshal.PtrToStringUTF8(PcapNative.GetError(handle)) ?? "unknown error";
}
