using System;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>
    /// The answer the metrics endpoint gives to one HTTP/1.x request line (RFC 9112 §3): pure, so the
    /// whole of what a hostile client can make it do is here. Only the request line matters; header
    /// fields are read (to bound them) and ignored.
    /// </summary>
    public static class ScrapeRequest
    {
        /// <summary>The only path served.</summary>
        public const string MetricsPath = "/metrics";

        /// <summary>The status code for <paramref name="requestLine"/> (without its line ending): 200 for
        /// <c>GET</c> or <c>HEAD</c> of <c>/metrics</c> (any query string), 404 for another path, 405 for
        /// another method, 400 for a line that is not <c>method SP target SP HTTP/1.x</c>, 505 for another version.</summary>
        /// <param name="requestLine">The first line of the request.</param>
        /// <param name="isHead">True for a HEAD request: the answer carries no body.</param>
        public static int Answer(string requestLine, out bool isHead)
        {
            isHead = false;
            if (string.IsNullOrEmpty(requestLine)) return 400;
            foreach (var c in requestLine)
                if ((c < 0x21 && c != ' ') || c > 0x7e) return 400;   // control bytes and non-ASCII
            var parts = requestLine.Split(' ');
            if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0) return 400;
            var method = parts[0];
            var target = parts[1];
            var version = parts[2];
            if (!version.StartsWith("HTTP/", StringComparison.Ordinal)) return 400;
            if (version != "HTTP/1.1" && version != "HTTP/1.0") return 505;
            foreach (var c in method)
                if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && c != '-' && c != '_') return 400;
            if (target[0] != '/') return 400;
            var query = target.IndexOf('?');
            var path = query < 0 ? target : target.Substring(0, query);
            // The method is case-sensitive (RFC 9110 §9.1): "get" is another method.
            isHead = method == "HEAD";
            if (method != "GET" && !isHead) { isHead = false; return 405; }
            return path == MetricsPath ? 200 : 404;
        }

        /// <summary>The reason phrase of the codes <see cref="Answer"/> and the endpoint send.</summary>
        public static string ReasonOf(int status)
        {
            switch (status)
            {
                case 200: return "OK";
                case 400: return "Bad Request";
                case 404: return "Not Found";
                case 405: return "Method Not Allowed";
                case 431: return "Request Header Fields Too Large";
                case 500: return "Internal Server Error";
                case 505: return "HTTP Version Not Supported";
                default: return "Error";
            }
        }
    }
}
