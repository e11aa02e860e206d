using System.Collections.Concurrent;
using Farm.DataPlane.Neighbors;

namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>An in-memory <see cref="IFrameChannel"/>: tests inject received frames and read what was sent.</summary>
internal sealed class FakeFrameChannel : IFrameChannel
{
    private readonly BlockingCollection<byte[]?> incoming = [];

    public ConcurrentQueue<byte[]> Sent { get; } = new();

    public bool Disposed { get; private set; }

    public void Inject(byte[] frame) => incoming.Add(frame);

    public int Receive(Span<byte> buffer)
    {
        byte[]? frame = incoming.Take();
        if (frame is null)
        {
            return -1;
        }

        frame.CopyTo(buffer);
        return frame.Length;
    }

    public void Send(ReadOnlySpan<byte> frame) => Sent.Enqueue(frame.ToArray());

    public void Wake() => incoming.Add(null);

    public void Dispose()
    {
        if (!Disposed)
        {
            Disposed = true;
            incoming.Dispose();
        }
    }
}
