using System.Threading.Channels;
using TtaActors.Runtime.Runs;

namespace TtaActors.Runtime.Inspector;

/// <summary>
/// The node-wide live feed of runs (<c>GET /runs/feed</c>): every start and finish of a run this node started is handed
/// to each subscriber's bounded queue; a subscriber that does not keep up loses its oldest updates, never slows a run.
/// </summary>
public sealed class RunFeed : IDisposable
{
    /// <summary>Updates one subscriber may have waiting; beyond it the oldest are dropped (the page re-reads the list).</summary>
    public const int SubscriberCapacity = 256;

    /// <summary>Subscribers at once; a further <c>GET /runs/feed</c> is refused with 503 until one leaves.</summary>
    public const int MaxSubscribers = 64;

    private readonly RunService _runs;
    private readonly Lock _lock = new();
    private readonly List<Channel<RunRecord>> _subscribers = [];

    /// <summary>Publishes every change of <paramref name="runs"/>' runs to the subscribers.</summary>
    public RunFeed(RunService runs)
    {
        _runs = runs;
        _runs.Changed += Publish;
    }

    /// <summary>Subscribers now.</summary>
    public int Subscribers
    {
        get { lock (_lock) return _subscribers.Count; }
    }

    /// <summary>A reader of every later update, or null when <see cref="MaxSubscribers"/> are listening already.</summary>
    public Subscription? Subscribe()
    {
        var channel = Channel.CreateBounded<RunRecord>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false,
        });
        lock (_lock)
        {
            if (_subscribers.Count >= MaxSubscribers) return null;
            _subscribers.Add(channel);
        }
        return new Subscription(this, channel);
    }

    private void Publish(RunRecord run)
    {
        lock (_lock)
            foreach (var subscriber in _subscribers) subscriber.Writer.TryWrite(run);
    }

    private void Leave(Channel<RunRecord> channel)
    {
        lock (_lock) _subscribers.Remove(channel);
        channel.Writer.TryComplete();
    }

    /// <summary>Stops publishing.</summary>
    public void Dispose() => _runs.Changed -= Publish;

    /// <summary>One subscriber's updates; dispose it to leave.</summary>
    public sealed class Subscription(RunFeed feed, Channel<RunRecord> channel) : IDisposable
    {
        /// <summary>The updates, in order.</summary>
        public ChannelReader<RunRecord> Reader => channel.Reader;

        /// <summary>Leaves the feed.</summary>
        public void Dispose() => feed.Leave(channel);
    }
}
