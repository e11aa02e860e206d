using Farm.Protocol.V1;

namespace Farm.Cli.Drain;

/// <summary>What <c>farmctl drain</c> and <c>resume</c> print, for people and as JSON.</summary>
internal static class DrainOutput
{
    /// <summary>The answer in words: what changed (or that nothing did), the warning if any.</summary>
    public static string Text(DrainAnswer answer, DrainAction action)
    {
        ArgumentNullException.ThrowIfNull(answer);
        string node = answer.Node;
        if (answer.Error.Length > 0)
        {
            return $"{node}: {(action == DrainAction.Drain ? "drain" : "resume")} failed: {answer.Error}";
        }

        string text = action == DrainAction.Drain
            ? answer.Changed
                ? $"{node}: drain started; the other nodes take its buckets, it serves the connections it has until they drained (now {StatusWords.Drain(answer.State)})"
                : $"{node} is already drained, nothing changed (now {StatusWords.Drain(answer.State)})"
            : answer.Changed
                ? $"{node} resumed: it takes its share of the buckets again"
                : $"{node} was not drained, nothing changed";
        return answer.Warning.Length > 0 ? text + Environment.NewLine + "warning: " + answer.Warning : text;
    }

    /// <summary>
    /// The end of a wait, or null to go on: drained; or not reachable; or no longer drained (resumed, or its farmd
    /// restarted).
    /// </summary>
    public static DrainWaitOutcome? Verdict(DrainAnswer answer, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Error.Length > 0)
        {
            return new DrainWaitOutcome(false, elapsed, $"{answer.Node}: its drain cannot be followed: {answer.Error}");
        }

        return answer.State switch
        {
            DrainState.Drained => new DrainWaitOutcome(true, elapsed, $"{answer.Node} is drained after {Duration(elapsed)}: no bucket owned, incoming or draining; safe to stop for maintenance"),
            DrainState.None => new DrainWaitOutcome(false, elapsed, $"{answer.Node} is no longer drained (resumed, or its farmd restarted)"),
            _ => null,
        };
    }

    /// <summary>The answer (and the wait, when there was one) as one JSON object.</summary>
    public static string Json(DrainAnswer answer, DrainAction action, DrainWaitOutcome? waited)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return JsonText.FormatObject(
            w =>
            {
                w.WriteString("node", answer.Node);
                w.WriteString("action", action == DrainAction.Drain ? "drain" : "resume");
                w.WriteBoolean("changed", answer.Changed);
                w.WriteString("state", StatusWords.Drain(waited is { Drained: true } ? DrainState.Drained : answer.State));
                w.WriteStringOrNull("error", answer.Error);
                w.WriteStringOrNull("warning", answer.Warning);
                if (waited is not null)
                {
                    w.WriteStartObject("wait");
                    w.WriteBoolean("drained", waited.Drained);
                    w.WriteNumber("elapsed_ms", (long)waited.Elapsed.TotalMilliseconds);
                    w.WriteString("message", waited.Message);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteNull("wait");
                }
            },
            indented: true);
    }

    /// <summary>A duration as the config syntax writes it when whole (10m, 30s), else with a decimal (3.4s).</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds >= 60 && span.Ticks % TimeSpan.TicksPerMinute == 0 ? ((long)span.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m"
        : span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + "s";
}
