using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Farm.Fuzz.Tests.Fuzzing;

/// <summary>
/// Runs a <see cref="FuzzTarget"/> over its kept inputs, then over mutated and generated ones, on a thread with a
/// thread-pool-sized stack (1 MiB: the limit farmd's own request threads live with). An input fails when the target
/// throws anything but its own validation error, breaks an invariant, takes longer than its time bound twice in a
/// row, or allocates more than its bound. The first failing input is written to the test results and named in the
/// failure, ready to be kept under <c>Inputs/TARGET/</c> as a regression input.
/// </summary>
internal static class FuzzRunner
{
    /// <summary>Stack of the fuzzing thread: a recursion the limits miss overflows here before it could in farmd.</summary>
    public const int StackSize = 1024 * 1024;

    /// <summary>The inputs kept in <c>Inputs/NAME/</c> (seeds and former crashers), in ordinal order.</summary>
    public static IReadOnlyList<(string File, byte[] Data)> KeptInputs(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Inputs", name);
        return Directory.Exists(dir)
            ? [.. Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))]
            : [];
    }

    /// <summary>Checks every kept input of <paramref name="target"/>; fails naming each one that breaks a rule.</summary>
    public static void CheckKeptInputs(FuzzTarget target)
    {
        var kept = KeptInputs(target.Name);
        Assert.IsNotEmpty(kept, $"no inputs under Inputs/{target.Name}");
        var problems = new List<string>();
        OnFuzzThread(() =>
        {
            foreach (var (file, data) in kept)
            {
                if (Check(target, data) is { } problem)
                {
                    problems.Add($"{file}: {problem}");
                }
            }
        });
        Assert.IsEmpty(problems, string.Join('\n', problems));
    }

    /// <summary>
    /// <see cref="Run"/>, then asserts that more than <paramref name="minimumDeep"/> inputs made it deep: fewer means
    /// the fuzzer only scratches the surface (the failure says the target's <see cref="FuzzTarget.ShallowHint"/>).
    /// </summary>
    public static void RunDeep(FuzzTarget target, int iterations, int seed, TestContext context, int minimumDeep)
    {
        int deep = Run(target, iterations, seed, context);
        Assert.IsGreaterThan(minimumDeep, deep, target.ShallowHint);
    }

    /// <summary>
    /// Runs <paramref name="iterations"/> inputs (times <c>FARM_FUZZ_SCALE</c>) from seed <paramref name="seed"/> (or
    /// <c>FARM_FUZZ_SEED</c>); returns how many made it deep (see <see cref="FuzzTarget.Run"/>).
    /// </summary>
    public static int Run(FuzzTarget target, int iterations, int seed, TestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        seed = int.TryParse(Environment.GetEnvironmentVariable("FARM_FUZZ_SEED"), CultureInfo.InvariantCulture, out int s) ? s : seed;
        double scale = double.TryParse(Environment.GetEnvironmentVariable("FARM_FUZZ_SCALE"), CultureInfo.InvariantCulture, out double f) && f > 0 ? f : 1;
        iterations = (int)Math.Max(1, iterations * scale);

        var random = new Random(seed);
        var corpus = KeptInputs(target.Name).Select(k => k.Data).ToList();
        Assert.IsNotEmpty(corpus, $"no seeds under Inputs/{target.Name}");
        int seeds = corpus.Count;
        var mutator = new Mutator(random, target.Dictionary, target.MaxLength);
        int deep = 0;
        (int Iteration, byte[] Input, string Problem)? failure = null;
        var watch = Stopwatch.StartNew();
        OnFuzzThread(() =>
        {
            for (int i = 0; i < iterations && failure is null; i++)
            {
                byte[] input = target.Generate is { } generate && random.Next(4) == 0
                    ? generate(random)
                    : mutator.Mutate(corpus[random.Next(corpus.Count)], corpus[random.Next(corpus.Count)]);
                target.Fixup?.Invoke(input, random);
                if (Check(target, input, out bool wentDeep) is { } problem)
                {
                    failure = (i, input, problem);
                    break;
                }

                // Without coverage feedback, inputs that parsed become seeds too (bounded): mutations then start deeper.
                if (wentDeep)
                {
                    deep++;
                    if (corpus.Count < seeds + 512)
                    {
                        corpus.Add(input);
                    }
                    else
                    {
                        corpus[seeds + random.Next(512)] = input;
                    }
                }
            }
        });

        context.WriteLine($"{target.Name}: {iterations} inputs from seed {seed} in {watch.Elapsed.TotalSeconds:F1} s, {deep} parsed fully, corpus {corpus.Count}");
        if (failure is { } fail)
        {
            string saved = Save(target.Name, fail.Input, context);
            Assert.Fail(
                $"{target.Name}: input #{fail.Iteration} (seed {seed}) {fail.Problem}\n" +
                $"saved as {saved}; keep it as a regression input by copying it to tests/Farm.Fuzz.Tests/Inputs/{target.Name}/\n" +
                $"input ({fail.Input.Length} bytes): {Preview(fail.Input)}");
        }

        return deep;
    }

    /// <summary>Why <paramref name="input"/> fails (see the class summary), or null when it passes.</summary>
    public static string? Check(FuzzTarget target, byte[] input) => Check(target, input, out _);

    private static string? Check(FuzzTarget target, byte[] input, out bool deep)
    {
        deep = false;
        string? problem = Measure(target, input, out deep, out var elapsed, out long allocated);
        if (problem is not null)
        {
            return problem;
        }

        long allocationBound = target.AllocationBound(input.Length);
        if (allocated > allocationBound)
        {
            return $"allocated {allocated:N0} bytes, more than the bound of {allocationBound:N0}";
        }

        if (elapsed > target.TimeBound)
        {
            // The machine is shared: only a second slow run counts.
            _ = Measure(target, input, out _, out var again, out _);
            if (again > target.TimeBound)
            {
                return $"took {elapsed.TotalMilliseconds:F0} ms then {again.TotalMilliseconds:F0} ms, more than the bound of {target.TimeBound.TotalMilliseconds:F0} ms";
            }
        }

        return null;
    }

    private static string? Measure(FuzzTarget target, byte[] input, out bool deep, out TimeSpan elapsed, out long allocated)
    {
        deep = false;
        long before = GC.GetAllocatedBytesForCurrentThread();
        long started = Stopwatch.GetTimestamp();
        string? problem = null;
        try
        {
            deep = target.Run(input);
        }
        catch (FuzzInvariantException ex)
        {
            problem = "broke an invariant: " + ex.Message;
        }
        catch (Exception ex) when (!target.IsExpected(ex))
        {
            problem = $"threw {ex.GetType().FullName}: {ex.Message}\n{ex.StackTrace}";
        }
        catch (Exception)
        {
            // The parser's own validation error: the expected answer to a malformed input.
        }

        elapsed = Stopwatch.GetElapsedTime(started);
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return problem;
    }

    private static void OnFuzzThread(Action action)
    {
        Exception? error = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    action();
                }
                catch (Exception ex)
                {
                    error = ex;
                }
            },
            StackSize)
        { Name = "fuzz", IsBackground = true };
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            throw new InvalidOperationException("the fuzzing thread failed", error);
        }
    }

    private static string Save(string target, byte[] input, TestContext context)
    {
        string dir = Path.Combine(context.TestRunResultsDirectory ?? Path.GetTempPath(), "fuzz-crashers", target);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "crash-" + Convert.ToHexStringLower(SHA256.HashData(input))[..16]);
        File.WriteAllBytes(path, input);
        return path;
    }

    private static string Preview(byte[] input)
    {
        var sb = new StringBuilder();
        foreach (byte b in input.Take(600))
        {
            _ = b is >= 0x20 and < 0x7f ? sb.Append((char)b) : b == '\n' ? sb.Append("\\n") : sb.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
        }

        return input.Length > 600 ? sb.Append("...").ToString() : sb.ToString();
    }
}
