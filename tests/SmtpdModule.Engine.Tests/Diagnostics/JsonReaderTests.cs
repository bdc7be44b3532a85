using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Diagnostics;
using Xunit;

namespace SmtpdModule.Engine.Tests.Diagnostics
{
    /// <summary>The reader takes back what the log writes, whatever the strings hold, and refuses what is not JSON.</summary>
    public class JsonReaderTests
    {
        [Theory]
        [InlineData("plain")]
        [InlineData("quote \" backslash \\ slash /")]
        [InlineData("line\r\nbreak\ttab\u0001\u007f")]
        [InlineData("Grüße, 日本語, emoji 😀")]
        [InlineData("")]
        public void Reads_back_every_string_the_log_writes(string text)
        {
            var line = JsonLinesLog.Format(new ProxyEvent("decision", "s1", "127.0.0.1", text,
                new[] { new KeyValuePair<string, object>("list", new[] { text, null }), new KeyValuePair<string, object>("n", 42), new KeyValuePair<string, object>("d", 1.5) }));
            var data = Assert.IsType<Dictionary<string, object>>(JsonReader.Parse(line));
            Assert.Equal(text, data["message"]);
            Assert.Equal(new object[] { text, null }, Assert.IsType<List<object>>(data["list"]));
            Assert.Equal(42L, data["n"]);
            Assert.Equal(1.5, data["d"]);
        }

        [Fact]
        public void Reads_nested_values_of_every_kind()
        {
            var data = (Dictionary<string, object>)JsonReader.Parse(" {\"a\": [1, -2.5e1, true, false, null, {\"b\": \"\\u00e9\\/\"}], \"c\": {}} ");
            var a = (List<object>)data["a"];
            Assert.Equal(new object[] { 1L, -25.0, true, false, null }, a.GetRange(0, 5));
            Assert.Equal("é/", ((Dictionary<string, object>)a[5])["b"]);
            Assert.Empty((Dictionary<string, object>)data["c"]);
        }

        [Theory]
        [InlineData("")]
        [InlineData("{\"a\":1")]                 // cut short, as a line the proxy was writing when it stopped
        [InlineData("{\"a\":1} x")]
        [InlineData("{a:1}")]
        [InlineData("[1,]")]
        [InlineData("\"unterminated")]
        [InlineData("\"bad \\q escape\"")]
        [InlineData("\"\\u12\"")]
        [InlineData("\"raw \u0001 control\"")]
        [InlineData("01x")]
        [InlineData("1.")]
        [InlineData("tru")]
        [InlineData("٣")]                        // a digit, but not an ASCII one
        public void Refuses_what_is_not_JSON_with_the_offset(string text)
        {
            var ex = Assert.Throws<FormatException>(() => JsonReader.Parse(text));
            Assert.Contains("offset", ex.Message);
        }

        [Fact]
        public void Refuses_nesting_deeper_than_the_bound_without_exhausting_the_stack()
        {
            var deep = new string('[', 100_000) + new string(']', 100_000);
            var ex = Assert.Throws<FormatException>(() => JsonReader.Parse(deep));
            Assert.Contains("nested deeper than " + JsonReader.MaxDepth, ex.Message);
            Assert.NotNull(JsonReader.Parse(new string('[', JsonReader.MaxDepth) + new string(']', JsonReader.MaxDepth)));
        }
    }
}
