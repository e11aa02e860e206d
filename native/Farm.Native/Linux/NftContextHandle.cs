using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>Owns one <c>struct nft_ctx*</c>; freed with nft_ctx_free.</summary>
internal sealed class NftContextHandle : SafeHandle
{
    /// <summary>Used by the marshaller.</summary>
    public NftContextHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == nint.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        NftablesNative.CtxFree(handle);
        return true;
    }
}
