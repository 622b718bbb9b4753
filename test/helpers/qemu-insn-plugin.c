/*
 * A qemu TCG plugin that counts executed guest instructions exactly: every translated
 * instruction gets an inline "add 1" to one counter, and the total is written at exit to the
 * file named by the plugin argument `out=PATH` (stderr without it).
 *
 * Debian's qemu-system-arm is built with plugin support but ships neither plugins nor the
 * plugin header, so the few declarations used here are copied from QEMU's public plugin API
 * header include/qemu/qemu-plugin.h (QEMU 7.2, plugin API version 1; the API is stable and
 * versioned, QEMU refuses a plugin whose version it does not support).
 *
 * Build: gcc -shared -fPIC -O2 -o libinsn.so qemu-insn-plugin.c
 * Use:   qemu-system-arm ... -plugin ./libinsn.so,out=count.txt[,range=LO-HI]
 * Writes "TOTAL IN_RANGE": all executed instructions, and those at addresses in [LO, HI) (hex).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* --- from include/qemu/qemu-plugin.h (QEMU 7.2) --- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t {
  const char *target_name;
  struct {
    int min;
    int cur;
  } version;
  bool system_emulation;
  union {
    struct {
      int smp_vcpus;
      int max_vcpus;
    } system;
  };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
/* --- end of the copied declarations --- */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

static uint64_t insn_count;
/* Optional: instructions whose address is in [range_lo, range_hi) are also counted apart. */
static uint64_t range_count, range_lo, range_hi;
static char out_path[4096];

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  size_t i, n = qemu_plugin_tb_n_insns(tb);
  (void)id;
  /* One inline add per instruction (not per block): exact even when a block is left early. */
  for (i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count, 1);
    if (pc >= range_lo && pc < range_hi) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &range_count, 1);
  }
}

static void on_exit(qemu_plugin_id_t id, void *p) {
  char line[64];
  (void)id;
  (void)p;
  snprintf(line, sizeof line, "%llu %llu\n", (unsigned long long)insn_count, (unsigned long long)range_count);
  if (out_path[0]) {
    FILE *f = fopen(out_path, "w");
    if (f) {
      fputs(line, f);
      fclose(f);
      return;
    }
  }
  qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  int i;
  (void)info;
  for (i = 0; i < argc; i++) {
    if (strncmp(argv[i], "out=", 4) == 0) {
      strncpy(out_path, argv[i] + 4, sizeof out_path - 1);
    } else if (strncmp(argv[i], "range=", 6) == 0) {
      /* range=LO-HI, hexadecimal addresses */
      sscanf(argv[i] + 6, "%llx-%llx", (unsigned long long *)&range_lo, (unsigned long long *)&range_hi);
    }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
  qemu_plugin_register_atexit_cb(id, on_exit, NULL);
  return 0;
}
