using System.Collections.Generic;

namespace HelpBuilder
{
    /// <summary>One cmdlet page of docs/en-US, as read from the platyPS 2.0.0 schema.</summary>
    sealed class CommandHelp
    {
        public string Name { get; set; }
        public string Path { get; set; }
        public string ExternalHelpFile { get; set; }
        public string OnlineVersion { get; set; }
        public List<TextBlock> Synopsis { get; } = new List<TextBlock>();
        public List<TextBlock> Description { get; } = new List<TextBlock>();
        public List<SyntaxSet> Syntax { get; } = new List<SyntaxSet>();
        public List<ParameterHelp> Parameters { get; } = new List<ParameterHelp>();
        public List<TypeHelp> Inputs { get; } = new List<TypeHelp>();
        public List<TypeHelp> Outputs { get; } = new List<TypeHelp>();
        public List<TextBlock> Notes { get; } = new List<TextBlock>();
        public List<ExampleHelp> Examples { get; } = new List<ExampleHelp>();
        public List<LinkHelp> Links { get; } = new List<LinkHelp>();
    }

    /// <summary>One "### SetName" block of SYNTAX.</summary>
    sealed class SyntaxSet
    {
        public string Name { get; set; }
        public bool IsDefault { get; set; }
        /// <summary>Line of the "### " heading.</summary>
        public int HeadingLine { get; set; }
        /// <summary>Line of the code block.</summary>
        public int Line { get; set; }
        public List<SyntaxParameter> Parameters { get; } = new List<SyntaxParameter>();
        public bool CommonParameters { get; set; }
    }

    /// <summary>A parameter as a syntax line shows it: <c>[[-Name] &lt;Type&gt;]</c> and friends.</summary>
    sealed class SyntaxParameter
    {
        public string Name { get; set; }
        /// <summary>Null for a switch.</summary>
        public string Type { get; set; }
        public bool Required { get; set; }
        public bool Positional { get; set; }
    }

    /// <summary>One "### -Name" block of PARAMETERS.</summary>
    sealed class ParameterHelp
    {
        public string Name { get; set; }
        public int Line { get; set; }
        public List<TextBlock> Description { get; } = new List<TextBlock>();
        /// <summary>
        /// The ```yaml blocks. platyPS writes one per group of parameter sets in which the parameter
        /// behaves alike; most parameters have one, with "Parameter Sets: (All)".
        /// </summary>
        public List<ParameterFacts> Facts { get; } = new List<ParameterFacts>();
    }

    sealed class ParameterFacts
    {
        public const string AllSets = "(All)";
        public int Line { get; set; }
        public string Type { get; set; }
        public List<string> Sets { get; } = new List<string>();
        public List<string> Aliases { get; } = new List<string>();
        public List<string> AcceptedValues { get; } = new List<string>();
        public bool Required { get; set; }
        /// <summary>"Named" or a number.</summary>
        public string Position { get; set; }
        public string DefaultValue { get; set; }
        /// <summary>"False", "True (ByValue)", "True (ByPropertyName)", "True (ByPropertyName, ByValue)".</summary>
        public string PipelineInput { get; set; }
        public bool Globbing { get; set; }

        public bool AppliesTo(string set) =>
            Sets.Contains(AllSets) || Sets.Contains(set);
    }

    /// <summary>An INPUTS or OUTPUTS entry.</summary>
    sealed class TypeHelp
    {
        public string Name { get; set; }
        public List<TextBlock> Description { get; } = new List<TextBlock>();
    }

    sealed class ExampleHelp
    {
        public string Title { get; set; }
        public string Code { get; set; }
        public List<TextBlock> Remarks { get; } = new List<TextBlock>();
    }

    sealed class LinkHelp
    {
        public string Text { get; set; }
        public string Uri { get; set; }
    }
}
