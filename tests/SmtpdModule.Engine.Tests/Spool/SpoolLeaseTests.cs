using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolLeaseTests
    {
        static Task<string> Commit(SpoolWriter writer, params string[] recipients) =>
            TempSpool.CommitAsync(writer, recipients: recipients);

        [Fact]
        public async Task A_claim_moves_the_message_into_the_owners_directory_and_only_one_lease_gets_it()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer);
            using var first = SpoolLease.Acquire(spool.Root);
            using var second = SpoolLease.Acquire(spool.Root);

            var claim = first.TryClaim(SpoolState.Ready, id);
            Assert.NotNull(claim);
            Assert.Null(second.TryClaim(SpoolState.Ready, id));
            Assert.True(File.Exists(Path.Combine(spool.Root, "active", first.Owner, id + ".msg")));
            Assert.Empty(spool.Files("ready"));
            Assert.Equal(SpoolState.Active, SpoolQueue.Open(spool.Root).Get(id).State);
        }

        [Fact]
        public async Task Finish_records_the_status_before_the_message_moves_and_deletes_both_when_done()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer, "<b@example.com>", "<c@example.com>");
            using var lease = SpoolLease.Acquire(spool.Root);

            var claim = lease.TryClaim(SpoolState.Ready, id);
            claim.Status.Attempts = 1;
            claim.Status.For(0).Status = RecipientStatus.Delivered;
            claim.Status.NextAttempt = DateTimeOffset.UtcNow.AddMinutes(5);
            lease.Finish(claim, SpoolState.Deferred);

            var item = SpoolQueue.Open(spool.Root).Get(id);
            Assert.Equal(SpoolState.Deferred, item.State);
            Assert.Equal(RecipientStatus.Delivered, item.Recipients[0].Status);
            Assert.Equal(RecipientStatus.Pending, item.Recipients[1].Status);

            var again = lease.TryClaim(SpoolState.Deferred, id);
            Assert.Equal(RecipientStatus.Delivered, again.Status.StatusOf(0));
            lease.Finish(again, null);
            Assert.Empty(spool.Files("deferred"));
            Assert.Empty(spool.Files("status"));
            Assert.Empty(Directory.GetFiles(Path.Combine(spool.Root, "active", lease.Owner), "*.msg"));
        }

        [Fact]
        public async Task Claims_of_a_dead_lease_are_recovered_and_a_live_one_is_left_alone()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var due = await Commit(writer);
            var later = await Commit(writer);
            var live = await Commit(writer);

            // A forwarder that died: its directory and claims are there, its lock is not held.
            var dead = SpoolLease.Acquire(spool.Root);
            var deadOwner = dead.Owner;
            dead.TryClaim(SpoolState.Ready, due);
            var deferredClaim = dead.TryClaim(SpoolState.Ready, later);
            deferredClaim.Status.Attempts = 1;
            deferredClaim.Status.NextAttempt = DateTimeOffset.UtcNow.AddHours(1);
            DeliveryStatusFile.Write(spool.Root, later, deferredClaim.Status);
            SimulateCrash(dead);

            using var alive = SpoolLease.Acquire(spool.Root);
            Assert.NotNull(alive.TryClaim(SpoolState.Ready, live));
            using var recoverer = SpoolLease.Acquire(spool.Root);

            Assert.Equal(2, recoverer.RecoverAbandoned());
            Assert.Equal(new[] { due + ".msg" }, spool.Files("ready"));
            Assert.Equal(new[] { later + ".msg" }, spool.Files("deferred"));
            Assert.False(Directory.Exists(Path.Combine(spool.Root, "active", deadOwner)));
            Assert.True(File.Exists(Path.Combine(spool.Root, "active", alive.Owner, live + ".msg")));
        }

        [Fact]
        public async Task Disposing_a_lease_gives_unfinished_claims_back_to_ready()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer);
            var lease = SpoolLease.Acquire(spool.Root);
            lease.TryClaim(SpoolState.Ready, id);
            lease.Dispose();
            Assert.Equal(new[] { id + ".msg" }, spool.Files("ready"));
            Assert.Empty(Directory.GetDirectories(Path.Combine(spool.Root, "active")));
        }

        [Fact]
        public async Task A_corrupt_message_goes_to_corrupt_when_claimed()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer);
            File.WriteAllText(Path.Combine(spool.Root, "ready", id + ".msg"), "not an envelope\n\nbody");
            using var lease = SpoolLease.Acquire(spool.Root);
            var ex = Assert.Throws<SpoolException>(() => lease.TryClaim(SpoolState.Ready, id));
            Assert.Equal(SpoolErrorReason.Corrupt, ex.Reason);
            Assert.Equal(new[] { id + ".msg" }, spool.Files("corrupt"));
        }

        // What a killed process leaves: the lock file closed by the OS, nothing else cleaned up.
        static void SimulateCrash(SpoolLease lease)
        {
            var field = typeof(SpoolLease).GetField("_lock", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
            ((FileStream)field.GetValue(lease)).Dispose();
        }
    }
}
