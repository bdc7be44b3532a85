using System.Text;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    public class Crc32Tests
    {
        [Fact]
        public void The_check_value_is_zlibs_and_two_spans_chain_as_one()
        {
            var bytes = Encoding.ASCII.GetBytes("123456789");
            Assert.Equal(0xCBF43926u, Crc32.Compute(0, bytes, 0, bytes.Length));
            Assert.Equal(0xCBF43926u, Crc32.Compute(Crc32.Compute(0, bytes, 0, 4), bytes, 4, 5));
            Assert.Equal(0u, Crc32.Compute(0, bytes, 0, 0));
        }
    }
}
