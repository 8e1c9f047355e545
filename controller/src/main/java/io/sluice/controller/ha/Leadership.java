package io.sluice.controller.ha;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.sluice.controller.sync.SwitchManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.projectfloodlight.openflow.protocol.OFControllerRole;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which replica writes to which switch: one {@code coordination.k8s.io} Lease per shard, contended through fabric8's
 * {@link LeaderElector}. The Lease's {@code leaseTransitions} is the leadership term and the OpenFlow generation id:
 * the leader of a shard asks each of its switches for MASTER with the term, the others for SLAVE with the term they
 * observed. Each new term is larger, so a deposed leader's MASTER request (or a write after the switch moved its
 * other connections to SLAVE) is refused by the switch itself: two writers never interleave, whatever the clocks.
 *
 * <p>A replica that loses a Lease stops writing to that shard at once (before it hears from the switches) and takes
 * part in the election again. Sluice stores nothing of its own: Kubernetes does the coordination.
 */
public final class Leadership implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

  /** What the replicas agree on (namespace, lease name, timings, shard count) and who this one is. */
  public record Settings(String namespace, String leaseName, String identity, Duration leaseDuration,
                         Duration renewDeadline, Duration retryPeriod, int shards) {
    public Settings {
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(leaseName, "leaseName");
      Objects.requireNonNull(identity, "identity");
      if (!(leaseDuration.compareTo(renewDeadline) > 0 && renewDeadline.compareTo(retryPeriod) > 0
          && !retryPeriod.isNegative() && !retryPeriod.isZero())) {
        throw new IllegalArgumentException("leader election needs lease duration > renew deadline > retry period > 0, "
            + "got " + leaseDuration + ", " + renewDeadline + ", " + retryPeriod);
      }
      if (shards < 1) {
        throw new IllegalArgumentException("--shards must be at least 1, got " + shards);
      }
    }

    /** The Lease of a shard: the name itself with one shard, else {@code NAME-shard-I}. */
    public String lease(int shard) {
      return shards == 1 ? leaseName : leaseName + "-shard-" + shard;
    }
  }

  private final KubernetesClient client;
  private final Settings settings;
  private final SwitchManager switches;
  private final ExecutorService executor;
  private final java.util.concurrent.ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-leader-timer");
        t.setDaemon(true);
        return t;
      });
  private final List<Shard> shards = new ArrayList<>();
  private volatile boolean closed;

  public Leadership(KubernetesClient client, Settings settings, SwitchManager switches) {
    this.client = client;
    this.settings = settings;
    this.switches = switches;
    if (switches.shards() != settings.shards()) {
      throw new IllegalArgumentException("switch manager has " + switches.shards() + " shards, leadership "
          + settings.shards());
    }
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(Math.min(4, settings.shards() + 1), r -> {
      Thread t = new Thread(r, "sluice-leader-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Joins every shard's election; returns at once. */
  public void start() {
    LOG.info("leader election: {} shard(s), Lease {}/{}{}, identity {}, lease {} ms, renew deadline {} ms, retry "
            + "{} ms", settings.shards(), settings.namespace(), settings.leaseName(),
        settings.shards() > 1 ? "-shard-N" : "", settings.identity(), settings.leaseDuration().toMillis(),
        settings.renewDeadline().toMillis(), settings.retryPeriod().toMillis());
    int preferred = preferredShard(settings.identity(), settings.shards());
    for (int i = 0; i < settings.shards(); i++) {
      shards.add(new Shard(i));
    }
    shards.get(preferred).elect();
    for (Shard s : shards) {
      if (s.index != preferred) {
        timer.execute(() -> s.electWhenFair());
      }
    }
  }

  /**
   * The shard a replica contends for first: a stable hash of its identity. For a free shard it does not prefer it
   * waits one lease duration per shard it already leads (see {@code electWhenFair}), so that replicas starting
   * together spread over the shards instead of the first one taking all; once it contends for a shard it keeps
   * contending (that is the failover path).
   */
  public static int preferredShard(String identity, int shards) {
    return Math.floorMod(identity.hashCode(), shards);
  }

  private int leadingCount() {
    int n = 0;
    for (Shard s : shards) {
      n += s.leading ? 1 : 0;
    }
    return n;
  }

  /** Whether this replica leads the shard now. */
  public boolean leads(int shard) {
    return shards.size() > shard && shards.get(shard).leading;
  }

  /** The term (generation id) this replica last used or observed for the shard. */
  public long term(int shard) {
    return shards.size() > shard ? shards.get(shard).term : -1;
  }

  private final class Shard {
    final int index;
    final String lease;
    volatile boolean leading;
    volatile long term = -1;
    volatile CompletableFuture<?> running;

    Shard(int index) {
      this.index = index;
      this.lease = settings.lease(index);
    }

    /**
     * Starts contending for a shard this replica does not prefer: at once when its Lease is seen held by another
     * replica (the elector then only takes it if that one stops renewing: failover), or once the Lease has been seen
     * free (missing or without holder) for a lease duration per shard this replica already leads, in reads that
     * succeeded, so a replica whose preferred shard is this one gets it first even when the API server is slow.
     */
    void electWhenFair() {
      if (closed) {
        return;
      }
      String holder;
      try {
        Lease l = client.resources(Lease.class).inNamespace(settings.namespace()).withName(lease).get();
        holder = l == null || l.getSpec() == null || l.getSpec().getHolderIdentity() == null ? ""
            : l.getSpec().getHolderIdentity();
      } catch (RuntimeException e) {
        freeSince = 0; // no answer: nothing observed
        timer.schedule(this::electWhenFair, settings.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
        return;
      }
      long now = System.nanoTime();
      if (!holder.isEmpty() && !holder.equals(settings.identity())) {
        elect();
        return;
      }
      if (freeSince == 0) {
        freeSince = now;
      }
      if (holder.equals(settings.identity())
          || now - freeSince >= settings.leaseDuration().toNanos() * (1 + leadingCount())) {
        elect();
      } else {
        timer.schedule(this::electWhenFair, settings.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
      }
    }

    private long freeSince;

    void elect() {
      if (closed) {
        return;
      }
      LeaderElector elector = new LeaderElector(client, new LeaderElectionConfigBuilder()
          .withName("sluice " + lease)
          .withLock(new LeaseLock(settings.namespace(), lease, settings.identity()))
          .withLeaseDuration(settings.leaseDuration())
          .withRenewDeadline(settings.renewDeadline())
          .withRetryPeriod(settings.retryPeriod())
          .withReleaseOnCancel(true)
          .withLeaderCallbacks(new LeaderCallbacks(this::started, this::stopped, this::observed))
          .build(), executor);
      running = elector.start();
      running.whenComplete((v, t) -> {
        // Leadership lost (renew deadline passed) or the elector failed: take part again, unless closing.
        if (!closed) {
          timer.schedule(this::elect, settings.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
        }
      });
    }

    void started() {
      Lease l = read();
      String holder = l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
      if (l != null && !settings.identity().equals(holder)) {
        // Won, then lost before this ran (a stalled process whose Lease expired): the term now is someone else's.
        LOG.warn("shard {}: won Lease {}/{} but it is held by {} by now; not asking for MASTER", index,
            settings.namespace(), lease, holder);
        return;
      }
      long t = l == null ? term : transitions(l);
      term = t;
      leading = true;
      LOG.info("leader of shard {} (Lease {}/{}, term {}): asking its switches for MASTER with generation id {}",
          index, settings.namespace(), lease, t, t);
      switches.changeRole(index, new SwitchManager.Role(OFControllerRole.ROLE_MASTER, t));
    }

    void stopped() {
      boolean was = leading;
      leading = false;
      if (was) {
        LOG.warn("lost the lead of shard {} (Lease {}/{}): stopped writing to its switches", index,
            settings.namespace(), lease);
      }
      switches.changeRole(index, follower(term));
    }

    void observed(String identity) {
      if (settings.identity().equals(identity)) {
        return; // started() handles our own term
      }
      long t = transitions();
      term = t;
      leading = false;
      LOG.info("shard {}: {} leads (term {}); asking its switches for SLAVE with generation id {}", index, identity,
          t, t);
      switches.changeRole(index, follower(t));
    }

    /** SLAVE with the term seen, or STANDBY (ask nothing, write nothing) when none is known. */
    SwitchManager.Role follower(long t) {
      return t < 0 ? SwitchManager.Role.STANDBY : new SwitchManager.Role(OFControllerRole.ROLE_SLAVE, t);
    }

    /** The Lease's leaseTransitions now (the last known term when it cannot be read). */
    long transitions() {
      Lease l = read();
      return l == null ? term : transitions(l);
    }

    long transitions(Lease l) {
      Integer n = l.getSpec() == null ? null : l.getSpec().getLeaseTransitions();
      return n == null ? 0 : n;
    }

    /** The shard's Lease, or null when it cannot be read. */
    Lease read() {
      try {
        return client.resources(Lease.class).inNamespace(settings.namespace()).withName(lease).get();
      } catch (RuntimeException e) {
        LOG.warn("shard {}: cannot read Lease {}/{}: {}", index, settings.namespace(), lease, e.getMessage());
        return null;
      }
    }
  }

  /** Gives the Leases up (so a standby takes over without waiting for them to expire) and stops. */
  @Override
  public void close() {
    closed = true;
    for (Shard s : shards) {
      CompletableFuture<?> f = s.running;
      if (f != null) {
        f.cancel(true);
      }
    }
    timer.shutdownNow();
    executor.shutdown();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
