using System.Collections.Concurrent;

namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>An in-memory <see cref="IFrameChannel"/>: tests inject received frames and read what was sent.</summary>
internal sealed class FakeFrameChannel : IFrameChannel
{
    private readonly BlockingCollection<byte[]?> incoming = [];
    private int receiving;

    public ConcurrentQueue<byte[]> Sent { get; } = new();

    public bool Disposed { get; private set; }

    /// <summary>True when <see cref="Dispose"/> came while a <see cref="Receive"/> was still running (a real capture would be closed under it).</summary>
    public bool DisposedWhileReceiving { get; private set; }

    public void Inject(byte[] frame) => incoming.Add(frame);

    public int Receive(Span<byte> buffer)
    {
        Interlocked.Increment(ref receiving);
        try
        {
            byte[]? frame = incoming.Take();
            if (frame is null)
            {
                return -1;
            }

            frame.CopyTo(buffer);
            return frame.Length;
        }
        finally
        {
            Interlocked.Decrement(ref receiving);
        }
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        Sent.Enqueue(frame.ToArray());
    }

    public void Wake() => incoming.Add(null);

    public void Dispose()
    {
        if (!Disposed)
        {
            DisposedWhileReceiving = Volatile.Read(ref receiving) != 0;
            Disposed = true;
            incoming.Dispose();
        }
    }
}
