namespace Farm.Testing.Nftables;

/// <summary>Two kernels that accepted new flows of one bucket at once (see <see cref="AcceptorOverlapChecker"/>).</summary>
/// <param name="At">When the overlap was first seen, on the sampler's clock.</param>
/// <param name="Bucket">The bucket.</param>
/// <param name="First">The lower node index.</param>
/// <param name="Second">The higher node index.</param>
/// <param name="Definite">True when proven by the reads; false when a hand-over between two reads could explain it.</param>
/// <param name="Detail">The reads that show it.</param>
public sealed record AcceptorOverlap(TimeSpan At, int Bucket, int First, int Second, bool Definite, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"{(Definite ? "definite" : "possible")} overlap at {At.TotalMilliseconds:F0} ms: {Detail}");
}
