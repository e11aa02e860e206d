namespace Farm.DataPlane.Addressing;

/// <summary>Kernel parameters, addressed by their path under /proc/sys (e.g. <c>net/ipv4/conf/eth0/arp_ignore</c>).</summary>
/// <remarks>Slash paths, not dotted keys: interface names such as <c>eth0.100</c> contain dots.</remarks>
public interface ISysctl
{
    /// <summary>The current value, trimmed.</summary>
    /// <exception cref="IOException">The parameter does not exist or cannot be read.</exception>
    string Read(string path);

    /// <summary>Sets a value.</summary>
    /// <exception cref="IOException">The parameter does not exist or cannot be written.</exception>
    void Write(string path, string value);
}
