using System;
using System.Security;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>The URI a -StateStore parameter will take, the credential beside it, and the checks.</summary>
    public class RedisStateStoreOptionsTests
    {
        [Theory]
        [InlineData("redis://cache.example.test:6380", "cache.example.test", 6380, 0, false)]
        [InlineData("redis://cache.example.test", "cache.example.test", 6379, 0, false)]
        [InlineData("redis://10.0.0.5:6379/3", "10.0.0.5", 6379, 3, false)]
        [InlineData("redis://10.0.0.5:6379/", "10.0.0.5", 6379, 0, false)]
        [InlineData("rediss://cache.example.test:6380/1", "cache.example.test", 6380, 1, true)]
        [InlineData("REDISS://Cache.Example.Test", "cache.example.test", 6379, 0, true)]
        [InlineData("redis://[::1]:7000/2", "::1", 7000, 2, false)]
        public void A_uri_gives_host_port_database_and_tls(string uri, string host, int port, int database, bool tls)
        {
            var options = RedisStateStoreOptions.FromUri(uri);
            Assert.Equal(host, options.Host);
            Assert.Equal(port, options.Port);
            Assert.Equal(database, options.Database);
            Assert.Equal(tls, options.UseTls);
            Assert.Equal(RedisStateStoreOptions.DefaultKeyPrefix, options.KeyPrefix);
            Assert.Equal(TimeSpan.FromMilliseconds(250), options.OperationTimeout);
            options.Validate();
        }

        [Fact]
        public void The_name_is_the_uri_without_credential()
        {
            var options = RedisStateStoreOptions.FromUri("redis://[::1]:7000/2");
            options.Password = "secret";
            Assert.Equal("redis://[::1]:7000/2", options.ToString());
            Assert.Equal("rediss://cache.example.test:6379/0", RedisStateStoreOptions.FromUri("rediss://cache.example.test").ToString());
        }

        [Theory]
        [InlineData("cache.example.test:6379", "scheme")]
        [InlineData("http://cache.example.test", "scheme")]
        [InlineData("redis://cache.example.test/db1", "database number")]
        [InlineData("redis://cache.example.test/-1", "database number")]
        [InlineData("redis://cache.example.test/1/2", "database number")]
        [InlineData("redis://cache.example.test?ssl=true", "query")]
        [InlineData("redis://cache.example.test#x", "fragment")]
        [InlineData("not a uri", "not a URI")]
        public void A_uri_that_is_not_redis_host_port_db_is_refused_saying_why(string uri, string why)
        {
            var ex = Assert.Throws<ArgumentException>(() => RedisStateStoreOptions.FromUri(uri));
            Assert.Equal("uri", ex.ParamName);
            Assert.Contains(why, ex.Message);
        }

        [Fact]
        public void A_credential_in_the_uri_is_refused_without_repeating_it()
        {
            var ex = Assert.Throws<ArgumentException>(() => RedisStateStoreOptions.FromUri("redis://user:hunter2@cache.example.test:6379"));
            Assert.Contains("credential", ex.Message);
            Assert.DoesNotContain("hunter2", ex.Message);
            Assert.DoesNotContain("user", ex.Message.Replace("user name", ""));
            Assert.Throws<ArgumentNullException>(() => RedisStateStoreOptions.FromUri(null));
        }

        [Fact]
        public void A_credential_comes_from_a_user_name_and_a_secure_string()
        {
            var options = RedisStateStoreOptions.FromUri("redis://cache.example.test");
            using var password = new SecureString();
            foreach (var c in "pässword") password.AppendChar(c);
            options.SetCredential("smtpd", password);
            Assert.Equal("smtpd", options.User);
            Assert.Equal("pässword", options.Password);

            options.SetCredential("", password);   // password-only AUTH
            Assert.Null(options.User);
            Assert.Equal("pässword", options.Password);
            options.Validate();
        }

        [Fact]
        public void Validate_names_the_setting_that_is_wrong()
        {
            void Refused(Action<RedisStateStoreOptions> change, string name)
            {
                var options = RedisStateStoreOptions.FromUri("redis://cache.example.test");
                change(options);
                var ex = Assert.Throws<ArgumentException>(options.Validate);
                Assert.Equal(name, ex.ParamName);
                Assert.StartsWith(name + ":", ex.Message);
                Assert.Throws<ArgumentException>(() => new RedisStateStore(options));
            }
            Refused(o => o.Host = " ", "Host");
            Refused(o => o.Port = 0, "Port");
            Refused(o => o.Port = 65536, "Port");
            Refused(o => o.Database = -1, "Database");
            Refused(o => o.KeyPrefix = null, "KeyPrefix");
            Refused(o => { o.User = "smtpd"; o.Password = null; }, "Password");
            Refused(o => o.OperationTimeout = TimeSpan.Zero, "OperationTimeout");
            Refused(o => o.OperationTimeout = TimeSpan.FromDays(30), "OperationTimeout");
            Refused(o => o.ConnectTimeout = TimeSpan.FromMilliseconds(-1), "ConnectTimeout");
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            using var issuer = Tls.TestCertificates.CreateSelfSigned(rsa, DateTimeOffset.Now, DateTimeOffset.Now.AddDays(1));
            Refused(o => o.TrustedIssuer = issuer, "TrustedIssuer");   // a plain redis:// URI
            Assert.Throws<ArgumentNullException>(() => new RedisStateStore(null));
        }
    }
}
