using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace Farm.Rpc.Protocol;

/// <summary>
/// The gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length, then the message.
/// </summary>
internal static class MessageFraming
{
    public const int HeaderSize = 5;

    /// <summary>Writes the 5-byte prefix of an uncompressed message of <paramref name="length"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, int length)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    /// <summary>Serializes <paramref name="message"/> with its prefix into a new array.</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED when the message is larger than <paramref name="maxSize"/>.</exception>
    public static byte[] Frame(IMessage message, int? maxSize)
    {
        int size = message.CalculateSize();
        CheckSendSize(size, maxSize);
        byte[] frame = new byte[HeaderSize + size];
        WriteHeader(frame, size);
        message.WriteTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    /// <summary>Writes <paramref name="message"/> with its prefix into <paramref name="writer"/>.</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message, int? maxSize)
    {
        int size = message.CalculateSize();
        CheckSendSize(size, maxSize);
        Span<byte> span = writer.GetSpan(HeaderSize + size)[..(HeaderSize + size)];
        WriteHeader(span, size);
        message.WriteTo(span[HeaderSize..]);
        writer.Advance(HeaderSize + size);
    }

    /// <summary>
    /// Takes one complete message off the front of <paramref name="buffer"/>. Returns false when more bytes are
    /// needed. The size limit is checked on the prefix, before the body is buffered, so an oversized message
    /// never costs its memory.
    /// </summary>
    /// <param name="buffer">Unread bytes; advanced past the message on success.</param>
    /// <param name="maxSize">Largest accepted message body.</param>
    /// <param name="encoding">The peer's <c>grpc-encoding</c> header, for the error on a compressed message.</param>
    /// <param name="payload">The message body, valid until the buffer is released.</param>
    /// <exception cref="RpcException">For a compressed, malformed or oversized message.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxSize, string? encoding, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        switch (header[0])
        {
            case 0:
                break;
            case 1 when GrpcProtocol.IsIdentityEncoding(encoding):
                throw new RpcException(StatusCode.Internal, "Received a compressed message, but no grpc-encoding other than identity was negotiated.");
            case 1:
                throw new RpcException(StatusCode.Unimplemented, $"Compressed messages (grpc-encoding '{encoding}') are not supported; only identity is.");
            default:
                throw new RpcException(StatusCode.Internal, $"Invalid compressed flag {header[0]} in message prefix.");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {maxSize}).");
        }

        if (buffer.Length < HeaderSize + length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(HeaderSize + length);
        return true;
    }

    private static void CheckSendSize(int size, int? maxSize)
    {
        if (size > maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {maxSize}).");
        }
    }
}
