using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>Owns one <c>pcap_t*</c>; closed with pcap_close.</summary>
internal sealed class PcapHandle : SafeHandle
{
    /// <summary>Used by the marshaller.</summary>
    public PcapHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == nint.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        PcapNative.Close(handle);
        return true;
    }
}
