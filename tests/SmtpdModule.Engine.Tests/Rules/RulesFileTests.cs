using System;
using System.Collections.Generic;
using System.IO;
using SmtpdModule.Engine.Rules;
using Xunit;

namespace SmtpdModule.Engine.Tests.Rules
{
    public sealed class RulesFileTests : IDisposable
    {
        readonly string _dir = Directory.CreateTempSubdirectory("smtpd-rules-").FullName;
        string PathOf(string name) => Path.Combine(_dir, name);
        public void Dispose() => Directory.Delete(_dir, true);

        static void Write(string path, string text, int secondsAhead)
        {
            File.WriteAllText(path, text);
            // Time stamps may be coarse: move each edit visibly forward instead of sleeping.
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(secondsAhead));
        }

        [Fact]
        public void An_edit_takes_effect_and_a_broken_edit_keeps_the_last_good_rules()
        {
            var path = PathOf("smtpd_check_rules");
            Write(path, "allow:ALL:ALL:ALL\n", 0);
            var file = RulesFile.Open(path, checkInterval: TimeSpan.Zero);
            var failures = new List<RuleFileException>();
            var reloads = 0;
            file.ReloadFailed += (_, e) => failures.Add(e);
            file.Reloaded += (_, _) => reloads++;

            Write(path, "noto:ALL:ALL:ALL:550 no\n", 10);
            Assert.Equal(RuleVerb.Noto, file.Current.Rules[0].Verb);
            Assert.Equal(1, reloads);

            Write(path, "noto:ALL:ALL:ALL:550 no\nalow:ALL:ALL:ALL\n", 20);
            Assert.Equal(RuleVerb.Noto, file.Current.Rules[0].Verb);
            Assert.Single(file.Current.Rules);
            var e = Assert.Single(failures);
            Assert.Equal(2, e.Line);
            Assert.Equal(1, e.Column);
            Assert.Equal(RuleDiagnosticCodes.UnknownAction, e.Code);
            _ = file.Current;
            Assert.Single(failures);   // reported once per broken state
            Assert.NotNull(file.LastError);

            Write(path, "deny:ALL:ALL:ALL\n", 30);
            Assert.Equal(RuleVerb.Deny, file.Current.Rules[0].Verb);
            Assert.Null(file.LastError);
        }

        [Fact]
        public void A_deleted_file_keeps_the_rules_in_force()
        {
            var path = PathOf("rules");
            Write(path, "noto:ALL:ALL:ALL\n", 0);
            var file = RulesFile.Open(path, checkInterval: TimeSpan.Zero);
            RuleFileException error = null;
            file.ReloadFailed += (_, e) => error = e;
            File.Delete(path);
            Assert.Equal(RuleVerb.Noto, file.Current.Rules[0].Verb);
            Assert.Equal(RuleDiagnosticCodes.UnreadableFile, error?.Code);
        }

        [Fact]
        public void Opening_a_missing_file_is_an_unreadable_file_error()
        {
            var ex = Assert.Throws<RuleFileException>(() => RulesFile.Open(PathOf("missing")));
            Assert.Equal(RuleDiagnosticCodes.UnreadableFile, ex.Code);
        }
    }
}
