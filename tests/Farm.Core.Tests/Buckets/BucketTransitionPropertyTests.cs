using FsCheck;
using FsCheck.Fluent;
using FsCheckConfig = FsCheck.Config;

namespace Farm.Core.Tests.Buckets;

/// <summary>
/// Random histories of joins, leaves and weight changes; after every step the table must be balanced, must have moved
/// the fewest buckets any balanced table could (exactly the buckets of the changed member whenever some balanced table
/// allows that), and must not depend on the order the members were listed in.
/// </summary>
[TestClass]
public sealed class BucketTransitionPropertyTests
{
    private const int MaxMembers = 64;
    private const int MaxSteps = 20;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Multiplies the case counts for a deeper run, e.g. <c>FARM_BUCKET_PROPERTY_SCALE=20</c>; the default keeps the suite fast.</summary>
    private static int Scale =>
        int.TryParse(Environment.GetEnvironmentVariable("FARM_BUCKET_PROPERTY_SCALE"), out int scale) && scale > 0 ? scale : 1;

    [TestMethod]
    [DataRow(256, 400)]
    [DataRow(1024, 300)]
    [DataRow(4096, 200)]
    [DataRow(65536, 25)]
    public void Next_RandomBalanceHistory_StaysBalancedMovesMinimumAndIsDeterministic(int bucketCount, int cases) =>
        CheckHistories(bucketCount, cases, RunBalance);

    [TestMethod]
    [DataRow(256, 300)]
    [DataRow(4096, 100)]
    public void Next_RandomSingleHistory_OneEligibleOwnerAndNoNeedlessSwitch(int bucketCount, int cases) =>
        CheckHistories(bucketCount, cases, RunSingle);

    /// <summary>Runs <paramref name="check"/> on <paramref name="cases"/> (times <see cref="Scale"/>) random histories and logs what they did.</summary>
    private void CheckHistories(int bucketCount, int cases, Action<Scenario, Stats> check)
    {
        cases *= Scale;
        var stats = new Stats();
        Check.One(
            FsCheckConfig.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true),
            Prop.ForAll(ScenarioGen(bucketCount).ToArbitrary(), scenario => check(scenario, stats)));
        TestContext.WriteLine($"{bucketCount} buckets: {stats}");
        Assert.AreEqual(cases, stats.Cases);
    }

    private static void RunBalance(Scenario scenario, Stats stats)
    {
        stats.Cases++;
        var history = new History(scenario);
        var table = BucketTable.Empty(scenario.BucketCount);
        var members = history.Initial();
        table = Step(table, members, BucketMode.Balance, failback: false, scenario.ShuffleSeed);
        BucketInvariants.AssertBalanced(table, members);
        // The first view starts from nothing: every owned bucket moved once, from "unowned".
        Assert.AreEqual(table.BucketCount - table.UnownedCount, BucketTable.Empty(scenario.BucketCount).Diff(table).Length);

        for (int s = 0; s < scenario.Steps.Length; s++)
        {
            var (next, change) = history.Apply(members, scenario.Steps[s]);
            var after = Step(table, next, BucketMode.Balance, failback: false, scenario.ShuffleSeed + s + 1);
            var moves = table.Diff(after);
            BucketInvariants.AssertBalanced(after, next);
            BucketInvariants.AssertMovesOnlyFromShrinkingToGrowing(table, after);
            Assert.AreEqual(BucketInvariants.MinimumMoves(table, next), moves.Length, $"step {s} {change}: fewest possible moves");

            // The exact number the single change requires, and which member every move touches, whenever some
            // balanced table allows it; otherwise the fewest moves (checked above) is the best any algorithm can do.
            string who = change.Name;
            bool grows = change.Kind switch
            {
                StepKind.Leave => false,
                StepKind.Join => true,
                _ => change.Weight >= members.First(m => m.Name == who).Weight,
            };
            if (!BucketInvariants.ExactMoveIsPossible(table, next, who, grows))
            {
                stats.NotExact++;
                stats.Example ??= $"{change} on {table} -> {after}, {moves.Length} moves";
            }
            else
            {
                switch (change.Kind)
                {
                    case StepKind.Leave:
                        Assert.AreEqual(table.CountOf(who), moves.Length, $"step {s} {change}: only the leaver's buckets move");
                        Assert.IsTrue(moves.All(m => m.From == who), $"step {s} {change}: every move leaves {who}");
                        break;
                    case StepKind.Join:
                        Assert.AreEqual(after.CountOf(who), moves.Length, $"step {s} {change}: only the newcomer's quota moves");
                        Assert.IsTrue(moves.All(m => m.To == who), $"step {s} {change}: every move reaches {who}");
                        break;
                    default:
                        Assert.AreEqual(Math.Abs(after.CountOf(who) - table.CountOf(who)), moves.Length, $"step {s} {change}: only the reweighted member's delta moves");
                        Assert.IsTrue(moves.All(m => m.From == who || m.To == who), $"step {s} {change}: every move touches {who}");
                        break;
                }
            }

            stats.Count(change.Kind);
            stats.Moves += moves.Length;
            stats.Steps++;
            table = after;
            members = next;
        }
    }

    private static void RunSingle(Scenario scenario, Stats stats)
    {
        stats.Cases++;
        var history = new History(scenario);
        var table = BucketTable.Empty(scenario.BucketCount);
        var members = history.Initial();
        for (int s = -1; s < scenario.Steps.Length; s++)
        {
            var next = members;
            if (s >= 0)
            {
                (next, var change) = history.Apply(members, scenario.Steps[s]);
                stats.Count(change.Kind);
            }

            // Alternate failback so both policies see every kind of change.
            bool failback = ((scenario.ShuffleSeed + s) & 1) == 0;
            var after = Step(table, next, BucketMode.Single, failback, scenario.ShuffleSeed + s + 1);
            var eligible = next.Where(m => m.Weight > 0).ToList();
            if (eligible.Count == 0)
            {
                Assert.AreEqual(after.BucketCount, after.UnownedCount, "no eligible member: nothing is owned");
            }
            else
            {
                var best = eligible.OrderByDescending(m => m.Priority).ThenBy(m => m.Name, StringComparer.Ordinal).First();
                string? previousOwner = table.OwnerOf(0) is { } first && table.CountOf(first) == table.BucketCount ? first : null;
                bool keeps = !failback && previousOwner is not null && eligible.Any(m => m.Name == previousOwner);
                string expected = keeps ? previousOwner! : best.Name;
                Assert.AreEqual(after.BucketCount, after.CountOf(expected), $"{expected} owns everything: {after}");
                var moves = table.Diff(after);
                Assert.AreEqual(expected == previousOwner ? 0 : after.BucketCount, moves.Length, "all or nothing moves");
                stats.Moves += moves.Length;
            }

            stats.Steps++;
            table = after;
            members = next;
        }
    }

    /// <summary>Computes the next table and checks it is identical when the members are listed in another order.</summary>
    private static BucketTable Step(BucketTable previous, List<BucketMember> members, BucketMode mode, bool failback, int shuffleSeed)
    {
        long epoch = previous.Epoch + 1;
        var table = BucketTransition.Next(previous, members, epoch, mode, failback);
        var shuffled = members.ToArray();
        new Random(shuffleSeed).Shuffle(shuffled);
        var again = BucketTransition.Next(previous, shuffled, epoch, mode, failback);
        Assert.IsTrue(table.Equals(again), "same inputs in another order give the identical table");
        Assert.AreEqual(table.Fingerprint, again.Fingerprint);
        BucketInvariants.AssertDiffConsistent(previous, table);
        return table;
    }

    private static Gen<Scenario> ScenarioGen(int bucketCount)
    {
        // Small weights make many exact and near-integer shares; large ones make fine fractions.
        var weight = Gen.Frequency(
            (1, Gen.Constant(0)),
            (4, Gen.Choose(1, 10)),
            (3, Gen.Choose(1, BucketMember.MaxWeight)),
            (1, Gen.Elements(1, 2, 3, 999, 1000)));
        var initial = Gen.Choose(1, MaxMembers).SelectMany(n => Gen.ArrayOf(Gen.Zip(weight, Gen.Choose(0, 3)), n));
        var step = Gen.Zip(Gen.Choose(0, 2), Gen.Zip(Gen.Choose(0, 1_000_000), Gen.Zip(weight, Gen.Choose(0, 3))))
            .Select(t => new StepSpec((StepKind)t.Item1, t.Item2.Item1, t.Item2.Item2.Item1, t.Item2.Item2.Item2));
        var steps = Gen.Choose(1, MaxSteps).SelectMany(n => Gen.ArrayOf(step, n));
        return Gen.Zip(initial, Gen.Zip(steps, Gen.Choose(0, int.MaxValue / 2)))
            .Select(t => new Scenario(bucketCount, t.Item1, t.Item2.Item1, t.Item2.Item2));
    }

    internal enum StepKind { Join, Leave, Reweight }

    internal readonly record struct StepSpec(StepKind Kind, int Pick, int Weight, int Priority);

    internal readonly record struct Change(StepKind Kind, string Name, int Weight);

    internal sealed record Scenario(int BucketCount, (int Weight, int Priority)[] Initial, StepSpec[] Steps, int ShuffleSeed)
    {
        public override string ToString() =>
            $"B={BucketCount} initial=[{string.Join(",", Initial.Select(m => $"{m.Weight}/{m.Priority}"))}] "
            + $"steps=[{string.Join(",", Steps.Select(s => $"{s.Kind}({s.Pick},{s.Weight},{s.Priority})"))}] seed={ShuffleSeed}";
    }

    /// <summary>Turns the abstract steps into member lists, keeping 1..64 members.</summary>
    private sealed class History(Scenario scenario)
    {
        // Prefixes whose ordinal order differs from culture-aware order, so a culture-sensitive sort would show.
        private static readonly string[] Prefixes = ["node", "Node", "a", "_", "é", "Z"];
        private int serial;

        public List<BucketMember> Initial() => scenario.Initial.Select(m => new BucketMember(NewName(), m.Weight, m.Priority)).ToList();

        public (List<BucketMember> Members, Change Change) Apply(List<BucketMember> members, StepSpec step)
        {
            var kind = step.Kind;
            if (kind == StepKind.Join && members.Count == MaxMembers)
            {
                kind = StepKind.Reweight;
            }
            else if (kind == StepKind.Leave && members.Count == 1)
            {
                kind = StepKind.Join;
            }

            var next = members.ToList();
            int index = step.Pick % members.Count;
            switch (kind)
            {
                case StepKind.Join:
                    var joiner = new BucketMember(NewName(), step.Weight, step.Priority);
                    next.Add(joiner);
                    return (next, new Change(kind, joiner.Name, joiner.Weight));
                case StepKind.Leave:
                    next.RemoveAt(index);
                    return (next, new Change(kind, members[index].Name, 0));
                default:
                    next[index] = new BucketMember(members[index].Name, step.Weight, members[index].Priority);
                    return (next, new Change(kind, members[index].Name, step.Weight));
            }
        }

        private string NewName()
        {
            int n = serial++;
            return $"{Prefixes[n % Prefixes.Length]}{n}";
        }
    }

    private sealed class Stats
    {
        // Steps per kind, indexed by StepKind.
        private readonly int[] byKind = new int[Enum.GetValues<StepKind>().Length];

        public int Cases { get; set; }
        public int Steps { get; set; }
        public long Moves { get; set; }
        public int NotExact { get; set; }

        public void Count(StepKind kind) => byKind[(int)kind]++;

        public string? Example { get; set; }

        public override string ToString() =>
            $"{Cases} cases, {Steps} steps ({byKind[(int)StepKind.Join]} joins, {byKind[(int)StepKind.Leave]} leaves, {byKind[(int)StepKind.Reweight]} weight changes), {Moves} buckets moved; "
            + $"{NotExact} steps where no balanced table could move only the changed member's buckets"
            + (Example is null ? "" : $", e.g. {Example}");
    }
}
