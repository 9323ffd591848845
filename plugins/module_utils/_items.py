# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The list form of a module (``named_values``, ``assignments``, ``elements``...): every item is a full parameter
set, the top-level options being the defaults of its sub-options; one module run for the whole list."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Sequence

from ._errors import AzureApimError


class ItemList:
    """A list option whose items are run one after the other by AzureApimModule.run_items().

    ``option``: the list option (type list, elements dict); its sub-options are ``item_options``, each of which is
    also a top-level option of the module, where it is the default for every item (an item's unset sub-option
    inherits the top-level value). ``key`` names an item in the diff; ``validate`` refuses bad input (pure, no
    network). Items with the same key are refused.
    """

    def __init__(self, option: str, item_options: Sequence[str], key: Callable[[Dict[str, Any]], str],
                 validate: Callable[[Dict[str, Any]], None] = lambda params: None, noun: str = "item") -> None:
        self.option = option
        self.item_options = tuple(item_options)
        self.key = key
        self.validate = validate
        self.noun = noun

    def expand(self, params: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """One full parameter set per item: the top-level values overridden by what the item sets."""
        merged, seen = [], set()
        for item in params[self.option]:
            one = {k: v for k, v in params.items() if k != self.option}
            one.update({k: v for k, v in item.items() if k in self.item_options and v is not None})
            key = self.key(one)
            if key in seen:
                raise AzureApimError("{0} {1!r} is listed twice in {2}".format(self.noun, key, self.option),
                                     code="InvalidParameters",
                                     hint="list each {0} once; merge the two entries".format(self.noun))
            seen.add(key)
            merged.append(one)
        return merged

    def label(self, params: Mapping[str, Any], index: int, total: int) -> str:
        """How an error names the item: ``named value nv-03 (item 3 of 10 in named_values)``."""
        return "{0} {1} (item {2} of {3} in {4})".format(self.noun, self.key(params), index + 1, total, self.option)

    def labelled(self, index: int, merged: List[Dict[str, Any]], fn: Callable[[Dict[str, Any]], Any]) -> Any:
        """``fn(item params)``; an AzureApimError it raises is prefixed with the item's label."""
        try:
            return fn(merged[index])
        except AzureApimError as err:
            err.msg = "{0}: {1}".format(self.label(merged[index], index, len(merged)), err.msg)
            raise

    def sub_spec(self, spec: Mapping[str, Any], required: Sequence[str] = ()) -> Dict[str, Any]:
        """The list option's argument spec built from the top-level options: same types, choices and no_log, no
        defaults (an unset sub-option inherits the top-level value); ``required`` are required in every item."""
        options = {}
        for name in self.item_options:
            sub = {k: v for k, v in spec[name].items() if k in ("type", "choices", "no_log", "elements", "aliases")}
            if name in required:
                sub["required"] = True
            options[name] = sub
        return {"type": "list", "elements": "dict", "options": options}
