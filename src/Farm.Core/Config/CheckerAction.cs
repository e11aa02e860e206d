namespace Farm.Core.Config;

/// <summary>What a checker failure does (<c>action</c>).</summary>
public enum CheckerAction
{
    /// <summary><c>restart</c>: stop_both then start_both in place, keeping the node in the farm.</summary>
    Restart,

    /// <summary><c>stopstart</c>: leave the farm, restart the application, rejoin.</summary>
    StopStart,

    /// <summary><c>stop</c>: stop the module on this node until an admin starts it.</summary>
    Stop,

    /// <summary><c>wait</c>: leave the farm (state WAIT) until the checker passes again.</summary>
    Wait,
}
