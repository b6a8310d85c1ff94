// Owning pointers for libnftnl objects.
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include <memory>

namespace nmks {

struct NftnlFree {
  void operator()(nftnl_gen* p) const { nftnl_gen_free(p); }
  void operator()(nftnl_table* p) const { nftnl_table_free(p); }
  void operator()(nftnl_chain* p) const { nftnl_chain_free(p); }
  void operator()(nftnl_set* p) const { nftnl_set_free(p); }
  void operator()(nftnl_set_elem* p) const { nftnl_set_elem_free(p); }
  void operator()(nftnl_rule* p) const { nftnl_rule_free(p); }
  void operator()(nftnl_expr* p) const { nftnl_expr_free(p); }
  void operator()(nftnl_expr_iter* p) const { nftnl_expr_iter_destroy(p); }
  void operator()(nftnl_set_elems_iter* p) const { nftnl_set_elems_iter_destroy(p); }
};
template <typename T>
using NftnlPtr = std::unique_ptr<T, NftnlFree>;

}  // namespace nmks
