namespace Farm.DataPlane.Filtering;

/// <summary>One kernel counter: packets and bytes since the filter was installed.</summary>
public readonly record struct CounterValue(ulong Packets, ulong Bytes);
