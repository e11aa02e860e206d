using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Farm.Native.Linux;

/// <summary>
/// One libnftables context: runs nft command text in-process as one atomic netlink batch per call, with buffered
/// output and errors. Not thread-safe: callers serialize.
/// </summary>
/// <remarks>
/// The context's netlink socket belongs to the network namespace of the thread that created the context, so a
/// context created on a thread inside a test namespace programs that namespace for its whole life.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class NftablesContext : IDisposable
{
    private readonly NftContextHandle handle;
    private readonly uint baseFlags;

    private NftablesContext(NftContextHandle handle)
    {
        this.handle = handle;
        baseFlags = NftablesNative.OutputGetFlags(handle);
    }

    /// <summary>Creates a context with buffered output and error streams.</summary>
    /// <exception cref="DllNotFoundException">libnftables.so.1 is not installed (Debian package libnftables1).</exception>
    /// <exception cref="NftablesException">The context could not be created.</exception>
    public static NftablesContext Create()
    {
        var handle = NftablesNative.CtxNew(NftablesNative.CtxDefault);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new NftablesException("nft_ctx_new failed.");
        }

        // Without buffering libnftables would print to the daemon's stdout/stderr.
        if (NftablesNative.BufferOutput(handle) != 0 || NftablesNative.BufferError(handle) != 0)
        {
            handle.Dispose();
            throw new NftablesException("nft_ctx_buffer_output/error failed.");
        }

        var context = new NftablesContext(handle);

        // libnftables opens its netlink socket without SOCK_CLOEXEC, so every process farmd starts (module scripts and
        // the applications they launch) would inherit it, and with it the ownership of the module's live table: the
        // table would outlive farmd. Open the socket now (a listing) and mark it close-on-exec.
        context.Run("list tables", json: false);
        CloseOnExec.MarkSockets();
        return context;
    }

    /// <summary>Runs <paramref name="commands"/> (nft syntax, several lines allowed) as one transaction; returns nft's output.</summary>
    /// <param name="commands">nft command text.</param>
    /// <param name="json">Print list output as JSON.</param>
    /// <exception cref="NftablesException">nft rejected the batch; nothing of it was applied.</exception>
    public string Run(string commands, bool json)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        NftablesNative.OutputSetFlags(handle, json ? baseFlags | NftablesNative.OutputJson : baseFlags);
        int rc = NftablesNative.RunCmdFromBuffer(handle, commands);

        // Read both buffers every time: reading resets them, so the next call starts clean.
        string output = Marshal.PtrToStringUTF8(NftablesNative.GetOutputBuffer(handle)) ?? string.Empty;
        string error = Marshal.PtrToStringUTF8(NftablesNative.GetErrorBuffer(handle)) ?? string.Empty;
        return rc == 0
            ? output
            : throw new NftablesException($"nft failed ({rc}): {error.Trim()}", commands);
    }

    /// <summary>
    /// Parses and evaluates <paramref name="commands"/> as <see cref="Run"/> would, without committing anything (libnftables'
    /// dry run): the kernel is not changed.
    /// </summary>
    /// <exception cref="NftablesException">nft rejected the commands.</exception>
    public void Check(string commands)
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        NftablesNative.SetDryRun(handle, true);
        try
        {
            Run(commands, json: false);
        }
        finally
        {
            NftablesNative.SetDryRun(handle, false);
        }
    }

    /// <inheritdoc />
    public void Dispose() => handle.Dispose();
}
