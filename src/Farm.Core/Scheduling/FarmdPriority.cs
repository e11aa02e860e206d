namespace Farm.Core.Scheduling;

/// <summary>The CPU priority farmd raises itself to (<see cref="IProcessPriority"/>); test harnesses that share its cores use it too.</summary>
public static class FarmdPriority
{
    /// <summary>The nice value farmd asks for: well above the applications' default 0, short of the kernel threads' -20.</summary>
    public const int Nice = -10;
}
