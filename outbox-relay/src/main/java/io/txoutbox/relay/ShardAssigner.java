package io.txoutbox.relay;

import io.txoutbox.relay.internals.FairShare;
import io.txoutbox.relay.internals.InstanceRegistry;
import io.txoutbox.relay.internals.Lease;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.relay.internals.ShardTable;
import io.txoutbox.relay.internals.Sharding;
import io.txoutbox.runtime.Threads;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which shards this instance publishes, on a thread of its own: about every second, and at
 * once when a lease is released (NOTIFY {@code txoutbox_relay}).
 *
 * <p>Each live instance (heartbeat within the lease ttl) aims at its {@link FairShare}: it takes
 * free or expired shards up to it, and when it holds more while another instance holds less than
 * its own target, it hands one shard over per turn (the worker finishes its batch and releases the
 * lease; the other instance takes it at once). A {@link ShardWorker} per held shard does the work.
 * A dead or frozen instance's shards are taken when their leases run out; a woken one is fenced per
 * shard (conditional writes, the shard's {@code transactional.id}).
 *
 * <p>While a reshard is in progress it releases every shard and settles those whose last holder did
 * not release them cleanly (see {@link Reshard}); then it follows the new layout. On stop it
 * records the instance as stopped first, so the others count it out, then releases every shard.
 */
final class ShardAssigner implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ShardAssigner.class);

  private final ShardContext ctx;
  private final Sharding sharding;
  private final ShardTable table;
  private final InstanceRegistry registry;
  private final OutboxListener.Waiter waiter;
  private final Map<Integer, Running> workers = new ConcurrentSkipListMap<>();
  private final Map<Integer, Lease> leases = new ConcurrentHashMap<>();

  private volatile Sharding.Layout layout;
  private volatile RelayState state = RelayState.STARTING;
  private volatile boolean running = true;
  private volatile Throwable fatal;

  private record Running(ShardWorker worker, Thread thread, boolean settling) {}

  ShardAssigner(
      ShardContext ctx, Sharding sharding, InstanceRegistry registry, Sharding.Layout layout) {
    this.ctx = ctx;
    this.sharding = sharding;
    this.table = new ShardTable(ctx.dataSource(), ctx.config().relayName());
    this.registry = registry;
    this.waiter = ctx.listener().newWaiter();
    follow(layout);
  }

  @Override
  public void run() {
    state = RelayState.STANDBY;
    try {
      while (running) {
        try {
          turn();
        } catch (SQLException e) {
          log.warn("shard assignment failed, retrying: {}", e.toString());
        }
        waiter.await(Lease.RELEASE_CHANNEL, ctx.config().standbyRetry(), () -> running);
      }
    } catch (RuntimeException | Error e) {
      log.error("shard assigner failed unexpectedly: {}", e.toString(), e);
      fatal = e;
    } finally {
      drain();
    }
  }

  /** Asks every worker to finish its batch and release its shard, then ends; returns at once. */
  void requestStop() {
    running = false;
  }

  RelayState state() {
    return state;
  }

  /** The error that stopped the relay, or null. */
  Throwable fatal() {
    return fatal;
  }

  /** Every held shard's producer is initialised and its checkpoint reconciled. */
  boolean kafkaReady() {
    return workers.values().stream().allMatch(r -> r.worker().kafkaReady());
  }

  /** Whether this instance publishes {@code shard} now. */
  boolean publishes(int shard) {
    Running r = workers.get(shard);
    return r != null && !r.settling() && r.worker().lease().isHeld();
  }

  private long epochOf(int shard) {
    Running r = workers.get(shard);
    return r == null ? -1 : r.worker().lease().epoch();
  }

  /** The leases of the shards held, for the heartbeat. */
  Collection<Lease> heldLeases() {
    List<Lease> held = new ArrayList<>();
    workers.values().forEach(r -> held.add(r.worker().lease()));
    return held;
  }

  /** The shards this instance publishes now, in order. */
  List<Integer> heldShards() {
    return workers.keySet().stream().filter(this::publishes).toList();
  }

  /** The shard layout followed now. */
  Sharding.Layout layout() {
    return layout;
  }

  private void turn() throws SQLException {
    reap();
    if (fatal != null) {
      running = false;
      return;
    }
    Sharding.Layout stored = sharding.read();
    if (stored.generation() != layout.generation()) {
      workers.values().forEach(r -> r.worker().requestRelease());
      if (!workers.isEmpty()) {
        return; // the next turn follows, once every worker of the old layout is gone
      }
      log.info(
          "following the new shard layout: {} shard(s), generation {}",
          stored.shards(),
          stored.generation());
      follow(stored);
    }
    if (stored.resharding()) {
      // Settling workers end by themselves once the shard is settled.
      workers.values().stream()
          .filter(r -> !r.settling())
          .forEach(r -> r.worker().requestRelease());
      if (workers.isEmpty()) {
        settleForReshard();
      }
      return;
    }
    balance();
  }

  private void balance() throws SQLException {
    String me = ctx.config().instanceId();
    ShardTable.Snapshot snapshot = table.read(ctx.config().leaseTtl());
    List<String> live = new ArrayList<>(snapshot.live());
    if (!live.contains(me)) {
      live.add(me);
    }
    // Leases still held in the database after this instance stepped down count as its own: it
    // takes them back at once (the acquisition bumps the epoch), as before shards existed.
    Map<String, Integer> owned = snapshot.owned();
    owned.merge(me, workers.size(), Math::max);
    Map<String, Integer> targets = FairShare.targets(live, owned, layout.shards());
    int target = targets.get(me);
    if (workers.size() > target && FairShare.anotherWantsMore(me, targets, owned)) {
      Running last = ((ConcurrentSkipListMap<Integer, Running>) workers).lastEntry().getValue();
      log.info(
          "handing shard {} over: this instance holds {}, its share is {}",
          last.worker().shard(),
          workers.size(),
          target);
      last.worker().requestRelease();
      return;
    }
    for (int shard : snapshot.takeable(layout.shards(), me)) {
      if (workers.size() >= target || !running) {
        return;
      }
      if (!workers.containsKey(shard)) {
        tryStart(shard, false);
      }
    }
  }

  private void settleForReshard() throws SQLException {
    for (int shard = 0; shard < layout.shards() && running; shard++) {
      tryStart(shard, true);
    }
  }

  private void tryStart(int shard, boolean settle) throws SQLException {
    Lease lease = leases.computeIfAbsent(shard, this::newLease);
    Optional<Lease.Acquired> acquired = settle ? lease.tryAcquireToSettle() : lease.tryAcquire();
    if (acquired.isEmpty()) {
      return;
    }
    log.info(
        "acquired shard {} of relay {} at epoch {} (previous holder: {}){}",
        shard,
        ctx.config().relayName(),
        acquired.get().fence().epoch(),
        acquired.get().previousOwner(),
        settle ? " to settle it for the reshard" : "");
    ctx.metrics().tookOver(shard);
    ShardWorker worker = new ShardWorker(ctx, lease, layout, settle);
    Thread thread =
        Threads.newThread("txoutbox-relay-shard-" + shard, ctx.config().instanceId(), worker);
    workers.put(shard, new Running(worker, thread, settle));
    state = RelayState.ACTIVE;
    thread.start();
  }

  private Lease newLease(int shard) {
    return new Lease(
        ctx.dataSource(),
        ctx.config().relayName(),
        shard,
        layout.generation(),
        ctx.config().instanceId(),
        ctx.config().leaseTtl(),
        System::nanoTime);
  }

  private void follow(Sharding.Layout next) {
    layout = next;
    leases.clear();
    ctx.metrics().shards(next.shards());
    for (int s = 0; s < next.shards(); s++) {
      int shard = s;
      ctx.metrics().epoch(shard, () -> epochOf(shard));
      ctx.metrics().register(shard);
    }
  }

  /** Forgets workers that ended; a fatal error of one stops the relay. */
  private void reap() {
    for (Running r : List.copyOf(workers.values())) {
      if (r.worker().fatal() != null && fatal == null) {
        fatal = r.worker().fatal();
      }
    }
    workers.values().removeIf(r -> !r.thread().isAlive());
    if (workers.isEmpty() && state == RelayState.ACTIVE) {
      state = RelayState.STANDBY;
    }
  }

  private void releaseAll() {
    workers.values().forEach(r -> r.worker().requestRelease());
    for (Running r : List.copyOf(workers.values())) {
      join(r.thread());
    }
    reap();
  }

  private void drain() {
    state = RelayState.DRAINING;
    try {
      registry.heartbeat(RelayState.STOPPED.role());
    } catch (SQLException | RuntimeException e) {
      log.debug("could not record the stopped role before releasing: {}", e.toString());
    }
    releaseAll();
    state = RelayState.STOPPED;
  }

  private static void join(Thread t) {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
