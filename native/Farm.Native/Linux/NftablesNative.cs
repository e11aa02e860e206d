using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>Raw libnftables entry points (libnftables.so.1, Debian package libnftables1); use <see cref="NftablesContext"/>.</summary>
internal static partial class NftablesNative
{
    private const string Library = "libnftables.so.1";

    /// <summary>nft_ctx_new flag: the default context.</summary>
    internal const uint CtxDefault = 0;

    /// <summary>NFT_CTX_OUTPUT_HANDLE: print rule handles.</summary>
    internal const uint OutputHandle = 1u << 3;

    /// <summary>NFT_CTX_OUTPUT_JSON: list commands print JSON.</summary>
    internal const uint OutputJson = 1u << 4;

    [LibraryImport(Library, EntryPoint = "nft_ctx_new")]
    internal static partial NftContextHandle CtxNew(uint flags);

    [LibraryImport(Library, EntryPoint = "nft_ctx_free")]
    internal static partial void CtxFree(nint context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_output_get_flags")]
    internal static partial uint OutputGetFlags(NftContextHandle context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_output_set_flags")]
    internal static partial void OutputSetFlags(NftContextHandle context, uint flags);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_output")]
    internal static partial int BufferOutput(NftContextHandle context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_error")]
    internal static partial int BufferError(NftContextHandle context);

    /// <summary>Returns a pointer into the context's own buffer, valid until the next command; never freed by the caller.</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_get_output_buffer")]
    internal static partial nint GetOutputBuffer(NftContextHandle context);

    /// <summary>Same ownership as <see cref="GetOutputBuffer"/>.</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_get_error_buffer")]
    internal static partial nint GetErrorBuffer(NftContextHandle context);

    /// <summary>nft_ctx_set_dry_run: parse and evaluate commands, build their batch, send nothing to the kernel.</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_set_dry_run")]
    internal static partial void SetDryRun(NftContextHandle context, [MarshalAs(UnmanagedType.U1)] bool dry);

    /// <summary>Parses and runs a whole buffer as ONE netlink batch: all of it commits or none of it does.</summary>
    [LibraryImport(Library, EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RunCmdFromBuffer(NftContextHandle context, string buffer);
}
