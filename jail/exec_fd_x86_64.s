# jail/exec_fd_x86_64.s — the bwrap jail's exec step for a program from IPFS (x86_64 Linux, no
# libc), whose machine code jail/exec_fd.ts carries (its test assembles this file and compares):
#   exec-fd <fd> <argv0> [args...]    marks <fd> close-on-exec, then
#                                     execveat(<fd>, "", argv from <argv0> on, envp, AT_EMPTY_PATH)
#   exec-fd <path> <argv0> [args...]  execve(<path>, argv from <argv0> on, envp)
# so the program runs from the descriptor (and does not hold it), or from its path, as <argv0>.
# When the exec fails it writes one line to stderr and exits 126.
.intel_syntax noprefix
.text
.globl _start
_start:
    mov rbx, rsp                  # [rbx] argc, [rbx+8] argv[0], ..., NULL, envp..., NULL
    mov rcx, [rbx]
    lea r13, [rbx + rcx * 8 + 16] # envp, after argv's NULL
    lea r14, [rbx + 24]           # argv + 2: the program's argv, from <argv0> on
    mov rsi, [rbx + 16]           # argv[1]: an absolute path, or a descriptor in decimal
    cmp byte ptr [rsi], 47        # '/'
    jne 1f
    mov rdi, rsi
    mov rsi, r14
    mov rdx, r13
    mov eax, 59                   # execve
    syscall
    jmp 3f
1:  xor edi, edi
2:  movzx eax, byte ptr [rsi]
    test eax, eax
    jz 4f
    sub eax, 48
    imul edi, edi, 10
    add edi, eax
    inc rsi
    jmp 2b
4:  mov r12d, edi                 # the descriptor
    mov esi, 2                    # F_SETFD
    mov edx, 1                    # FD_CLOEXEC
    mov eax, 72                   # fcntl
    syscall
    mov edi, r12d
    lea rsi, [rip + empty]
    mov rdx, r14
    mov r10, r13
    mov r8d, 0x1000               # AT_EMPTY_PATH
    mov eax, 322                  # execveat
    syscall
3:  mov edi, 2
    lea rsi, [rip + message]
    mov edx, message_end - message
    mov eax, 1                    # write
    syscall
    mov edi, 126
    mov eax, 231                  # exit_group
    syscall
empty:
    .byte 0
message:
    .ascii "ww: the jail cannot execute the program\n"
message_end:
