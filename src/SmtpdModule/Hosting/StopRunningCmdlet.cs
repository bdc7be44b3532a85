using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading.Tasks;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Stop-SmtpdProxy and Stop-SmtpFwd: stop what runs gracefully, found by -Id in this process,
    /// piped in as -InputObject, or with -SpoolPath through the control channel of any process
    /// serving that spool. Each cmdlet only names what it stops: its -Id (with the completer of
    /// its kind), its -InputObject type, and how one running instance is found and described.
    /// </summary>
    /// <remarks>
    /// Not generic over the engine's types, as <see cref="ControlChannelCmdlet"/> explains: the
    /// running instance travels as a <see cref="Target"/>.
    /// </remarks>
    public abstract class StopRunningCmdlet : ControlChannelCmdlet
    {
        protected const string ById = "Id", ByObject = "InputObject", BySpool = "SpoolPath";

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        /// <summary>Only the instance of this process (with -SpoolPath); 0 or none: any.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        public int ProcessId { get; set; }

        [Parameter]
        [ValidateRange(0, 3600)]
        public double TimeoutSeconds { get; set; } = 30;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>The cmdlet's -Id.</summary>
        internal abstract int[] Ids { get; }

        /// <summary>ShouldProcess's action, such as "Stop SMTP proxy".</summary>
        internal abstract string StopAction { get; }

        /// <summary>The cmdlet's -InputObject, each as a target.</summary>
        internal abstract IEnumerable<Target> Piped();

        /// <summary>What runs in this process with <paramref name="id"/>; null when nothing does.</summary>
        internal abstract Target Find(int id);

        protected override void ProcessRecord()
        {
            var timeout = TimeSpan.FromSeconds(TimeoutSeconds);
            switch (ParameterSetName)
            {
                case ByObject:
                    foreach (var target in Piped()) Stop(target, timeout);
                    return;
                case BySpool:
                    StopInSpool(SpoolPath, Ids, ProcessId, timeout, PassThru, StopAction);
                    return;
                default:
                    foreach (var id in Ids)
                    {
                        var target = Find(id);
                        if (target == null) WriteError(ErrorMapping.NotRunningHere(Kind, id));
                        else Stop(target, timeout);
                    }
                    return;
            }
        }

        void Stop(Target target, TimeSpan timeout)
        {
            if (!ShouldProcess(target.Description, StopAction)) return;
            Run(_ => target.StopAsync(timeout));
            if (PassThru) WriteObject(target.Item);
        }

        /// <summary>One running proxy or forwarder of this process, as the base stops it.</summary>
        internal sealed class Target
        {
            public Target(object item, string description, Func<TimeSpan, Task> stopAsync)
            {
                Item = item;
                Description = description;
                StopAsync = stopAsync;
            }

            /// <summary>What -PassThru writes.</summary>
            public object Item { get; }

            /// <summary>ShouldProcess's target: "proxy 3 (127.0.0.1:2525)".</summary>
            public string Description { get; }

            public Func<TimeSpan, Task> StopAsync { get; }
        }
    }
}
