using System;
using System.Collections.Generic;
using System.Net;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// A verdict another MTA logged, as a <see cref="DecisionRecord"/> a replay can decide again.
    /// The client's name is turned into the DNS facts the proxy's connect stage would have asked
    /// (<see cref="RuleLookups.ReverseNameAsync"/>: the PTR of the address, then A and AAAA of the
    /// name), so a replay derives the same name without asking the network; what the log does not
    /// say is left out, and a replay lists it as unrecorded.
    /// </summary>
    internal static class ImportedRecord
    {
        /// <summary>The <see cref="DecisionRecord.Basis"/> of every imported record.</summary>
        public const string Basis = "Imported";

        /// <summary>What the log says of the client's reverse name.</summary>
        public enum NameEvidence
        {
            /// <summary>The log names the client with a forward-confirmed name (Postfix's name[ip]).</summary>
            Verified,
            /// <summary>The log says the client had no confirmed name (Postfix's unknown[ip]).</summary>
            None,
            /// <summary>The log does not say (Exchange): the replay must ask, or count it unrecorded.</summary>
            NotLogged,
        }

        /// <summary>The accepted recipient's reply, as the proxy itself gives it: an import whose
        /// candidate still accepts replays with the same replies.</summary>
        public static readonly string Accepted = Replies.RecipientOk.ToString();

        public static DecisionRecord Make(string origin, DateTimeOffset time, string session, PolicyStage stage, VerdictKind kind,
                                          IReadOnlyList<string> replies, IPAddress client, string name, NameEvidence evidence,
                                          string helo, bool esmtp, string from, string to)
        {
            var peer = new PeerAddress(client);
            var facts = new List<Fact>();
            var results = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string clientName = null;
            var ptrName = ReverseNames.ReverseName(peer.Address);
            if (evidence == NameEvidence.Verified && !string.IsNullOrEmpty(name))
            {
                clientName = PeerText.CleanName(name);
                // The forward answer holds the client's address only in its own family; the other family has no data.
                facts.Add(Fact.FromDns(ptrName, DnsRecordType.PTR, DnsAnswer.Ok(new[] { name })));
                facts.Add(Fact.FromDns(name, DnsRecordType.A, peer.IsIPv6 ? DnsAnswer.NoData : DnsAnswer.Ok(new[] { peer.Text })));
                facts.Add(Fact.FromDns(name, DnsRecordType.AAAA, peer.IsIPv6 ? DnsAnswer.Ok(new[] { peer.Text }) : DnsAnswer.NoData));
                results["reverse"] = LookupOutcome.Found.ToString();
            }
            else if (evidence != NameEvidence.NotLogged)
            {
                // Postfix says "unknown" both for no PTR and for a PTR that does not resolve back;
                // either way the proxy would find no name, and NXDOMAIN is the simpler of the two.
                facts.Add(Fact.FromDns(ptrName, DnsRecordType.PTR, DnsAnswer.NameError));
                results["reverse"] = LookupOutcome.NotFound.ToString();
            }
            return new DecisionRecord
            {
                Time = time.ToUniversalTime(),
                Session = session,
                Stage = stage,
                Kind = kind,
                Replies = replies,
                Reason = "imported from " + origin,
                ClientAddress = peer.Text,
                ClientName = clientName,
                Helo = string.IsNullOrEmpty(helo) ? null : PeerText.CleanName(helo),
                Esmtp = esmtp,
                From = from,
                To = to,
                Basis = Basis,
                Facts = facts,
                Results = results,
            };
        }

        /// <summary>An address as the proxy records a path: in angle brackets, "&lt;&gt;" for the null sender.</summary>
        public static string Path(string address)
        {
            if (address == null) return "<>";
            var a = address.Trim();
            if (a.Length >= 2 && a[0] == '<' && a[a.Length - 1] == '>') return a;
            return "<" + a + ">";
        }
    }
}
