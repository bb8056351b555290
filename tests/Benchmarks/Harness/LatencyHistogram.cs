using System.Diagnostics;
using System.Numerics;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// Run latencies in log-linear buckets (32 per power of two, about 3% resolution), allocated once before a
/// measurement so recording a run allocates nothing and never skews the allocation figures.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int LinearLimit = 2 * SubBuckets;
    private const int Size = LinearLimit + (63 - SubBucketBits - 1) * SubBuckets;

    private static readonly double NanosecondsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    private readonly long[] _counts = new long[Size];

    private long _totalNanoseconds;

    public long Count { get; private set; }

    /// <summary>
    /// The exact mean in microseconds (a sum, not bucket midpoints). With closed-loop callers it obeys Little's law:
    /// mean x runs per second = callers in flight; the percentiles say how the runs share that time.
    /// </summary>
    public double MeanMicroseconds => Count == 0 ? double.NaN : _totalNanoseconds / 1000.0 / Count;

    public void RecordTicks(long ticks) => Record((long)(ticks * NanosecondsPerTick));

    public void Record(long nanoseconds)
    {
        nanoseconds = Math.Max(0, nanoseconds);
        _counts[IndexOf(nanoseconds)]++;
        _totalNanoseconds += nanoseconds;
        Count++;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < Size; i++) _counts[i] += other._counts[i];
        _totalNanoseconds += other._totalNanoseconds;
        Count += other.Count;
    }

    /// <summary>The latency below which <paramref name="quantile"/> of the runs finished, in microseconds.</summary>
    public double PercentileMicroseconds(double quantile)
    {
        if (Count == 0) return double.NaN;
        var rank = (long)Math.Ceiling(quantile * Count);
        long seen = 0;
        for (var i = 0; i < Size; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return MidpointOf(i) / 1000.0;
        }
        return MidpointOf(Size - 1) / 1000.0;
    }

    private static int IndexOf(long value)
    {
        if (value < LinearLimit) return (int)value;
        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = exponent - SubBucketBits;
        var sub = (int)(value >> shift) & (SubBuckets - 1);
        return LinearLimit + (exponent - SubBucketBits - 1) * SubBuckets + sub;
    }

    private static double MidpointOf(int index)
    {
        if (index < LinearLimit) return index;
        var exponent = (index - LinearLimit) / SubBuckets + SubBucketBits + 1;
        var sub = (index - LinearLimit) % SubBuckets;
        var shift = exponent - SubBucketBits;
        var low = (double)(SubBuckets + sub) * (1L << shift);
        return low + (1L << shift) / 2.0;
    }
}
