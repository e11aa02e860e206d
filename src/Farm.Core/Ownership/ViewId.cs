using System.Globalization;

namespace Farm.Core.Ownership;

/// <summary>
/// Identifies a view: its epoch, then the coordinator that proposed it (orders views from concurrent coordinators),
/// then that coordinator's incarnation (a restarted coordinator that lost the epoch count cannot reuse an id).
/// </summary>
public readonly record struct ViewId(long Epoch, string Coordinator, long CoordinatorIncarnation) : IComparable<ViewId>
{
    /// <inheritdoc />
    public int CompareTo(ViewId other)
    {
        int byEpoch = Epoch.CompareTo(other.Epoch);
        if (byEpoch != 0)
        {
            return byEpoch;
        }

        int byCoordinator = string.CompareOrdinal(Coordinator, other.Coordinator);
        return byCoordinator != 0 ? byCoordinator : CoordinatorIncarnation.CompareTo(other.CoordinatorIncarnation);
    }

    /// <summary>Compares two optional view ids; no view sorts before every view.</summary>
    public static int Compare(ViewId? a, ViewId? b) =>
        a is null ? (b is null ? 0 : -1) : b is null ? 1 : a.Value.CompareTo(b.Value);

    /// <summary>Greater-than.</summary>
    public static bool operator >(ViewId a, ViewId b) => a.CompareTo(b) > 0;

    /// <summary>Less-than.</summary>
    public static bool operator <(ViewId a, ViewId b) => a.CompareTo(b) < 0;

    /// <summary>Greater-or-equal.</summary>
    public static bool operator >=(ViewId a, ViewId b) => a.CompareTo(b) >= 0;

    /// <summary>Less-or-equal.</summary>
    public static bool operator <=(ViewId a, ViewId b) => a.CompareTo(b) <= 0;

    /// <inheritdoc />
    public override string ToString() => $"{Epoch.ToString(CultureInfo.InvariantCulture)}@{Coordinator}";
}
