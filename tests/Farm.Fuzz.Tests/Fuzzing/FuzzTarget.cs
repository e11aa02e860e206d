namespace Farm.Fuzz.Tests.Fuzzing;

/// <summary>One parser under fuzzing: how to feed it an input, which exception is its own validation error, and its bounds.</summary>
internal sealed record FuzzTarget
{
    /// <summary>The folder under <c>Inputs/</c> holding this target's seeds and kept crashers.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Feeds one input to the parser and checks the result's invariants (throwing <see cref="FuzzInvariantException"/>
    /// when one breaks); returns true when the input got deep (a valid result), so the fuzzer keeps mutating it.
    /// </summary>
    public required Func<byte[], bool> Run { get; init; }

    /// <summary>The parser's own validation errors, which are the expected answer to a malformed input.</summary>
    public Func<Exception, bool> IsExpected { get; init; } = _ => false;

    /// <summary>Longest one input may take (checked twice before failing: the machine is shared).</summary>
    public TimeSpan TimeBound { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Most bytes one input may allocate, by input length.</summary>
    public Func<int, long> AllocationBound { get; init; } = length => 1_000_000 + (100L * length);

    /// <summary>Largest input the mutator builds.</summary>
    public int MaxLength { get; init; } = 4096;

    /// <summary>Tokens the mutator inserts (keywords, magic numbers, structure).</summary>
    public IReadOnlyList<byte[]> Dictionary { get; init; } = [];

    /// <summary>What to look at when too few inputs got deep (said in the failure of <see cref="FuzzRunner.RunDeep"/>).</summary>
    public string ShallowHint { get; init; } = "";

    /// <summary>Optional: builds a fresh input from scratch (structure-aware generation).</summary>
    public Func<Random, byte[]>? Generate { get; init; }

    /// <summary>Optional: repairs a mutated input (e.g. a checksum) so mutations reach past the first check.</summary>
    public Action<byte[], Random>? Fixup { get; init; }
}
