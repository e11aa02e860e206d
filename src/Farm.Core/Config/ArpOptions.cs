namespace Farm.Core.Config;

/// <summary>Address announcement (module file <c>module.arp</c>).</summary>
public sealed record ArpOptions
{
    /// <summary>Default of <see cref="GratuitousInterval"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultGratuitousInterval = TimeSpan.FromSeconds(10);

    /// <summary><c>gratuitous_interval</c>: period of gratuitous ARP / unsolicited NA for the VIPs (also sent at start). Default 10 s; 1 s to 1 h.</summary>
    public TimeSpan GratuitousInterval { get; init; } = DefaultGratuitousInterval;
}
