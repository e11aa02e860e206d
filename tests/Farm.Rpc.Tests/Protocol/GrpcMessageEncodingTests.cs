using Farm.Rpc.Protocol;

namespace Farm.Rpc.Tests.Protocol;

[TestClass]
public sealed class GrpcMessageEncodingTests
{
    [TestMethod]
    public void Encode_PrintableAscii_ReturnsSameText()
    {
        Assert.AreEqual("plain text: ok!", GrpcMessageEncoding.Encode("plain text: ok!"));
    }

    [TestMethod]
    public void Encode_PercentAndNonAscii_EscapesUtf8Bytes()
    {
        Assert.AreEqual("100%25 caf%C3%A9%0A", GrpcMessageEncoding.Encode("100% café\n"));
    }

    [TestMethod]
    [DataRow("ünïcödé 100% ✓")]
    [DataRow("line\nbreak\ttab")]
    [DataRow("%%%")]
    [DataRow("emoji 🐄 farm")]
    public void Decode_EncodedText_RoundTrips(string text)
    {
        Assert.AreEqual(text, GrpcMessageEncoding.Decode(GrpcMessageEncoding.Encode(text)));
    }

    [TestMethod]
    [DataRow("100%", "100%")]
    [DataRow("%zz", "%zz")]
    [DataRow("%4", "%4")]
    [DataRow("a%41b", "aAb")]
    public void Decode_MalformedEscapes_AreKeptLiterally(string wire, string expected)
    {
        Assert.AreEqual(expected, GrpcMessageEncoding.Decode(wire));
    }
}
